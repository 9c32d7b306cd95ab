//! [`Decode`]: how a record becomes the value the record handler is called with — the SQS
//! body or the Kinesis data as JSON ([`serde::Deserialize`] types), as [`Text`] or
//! [`Binary`], DynamoDB images as serde types ([`NewImage`], [`OldImage`], [`Keys`],
//! [`Change`]), or not at all ([`Ignore`]) — and [`DecodeError`], why a record did not.

use std::error::Error as StdError;
use std::fmt;

#[cfg(any(feature = "sqs", feature = "kinesis"))]
use serde::de::DeserializeOwned;

use super::source::Source;

/// A value a record handler can take, decoded from each record before the handler is called.
/// A record that does not decode is a failed record (logged with its id; the handler is not
/// called for it), never a failed batch.
///
/// | type | SQS | Kinesis | DynamoDB Streams |
/// | --- | --- | --- | --- |
/// | any `T: Deserialize` | the body as JSON | the data (base64-decoded) as JSON | — |
/// | [`Text`] | the body | the data as UTF-8 | — |
/// | [`Binary`] | — | the data | — |
/// | [`NewImage<T>`], [`OldImage<T>`], [`Keys<T>`] | — | — | that image as `T` |
/// | [`Change<T>`] | — | — | both images, each optional |
/// | [`Ignore`] | nothing | nothing | nothing |
pub trait Decode<S: Source>: Sized {
    /// Decodes `message`, or says why it cannot be.
    fn decode(message: &S::Message) -> Result<Self, DecodeError>;
}

/// Why a record did not decode into the record handler's type.
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// The part of the record the type is read from is absent (or empty).
    Missing {
        /// The part: `body`, `NewImage`, `OldImage`, `Keys`.
        part: &'static str,
    },
    /// The part is not JSON of the type.
    Json {
        /// The part: `body` or `data`.
        part: &'static str,
        /// The type it was decoded as.
        target: &'static str,
        /// The JSON decoder's error.
        source: serde_json::Error,
    },
    /// The part is not UTF-8 text.
    NotUtf8 {
        /// The part: `data`.
        part: &'static str,
        /// Where the text stops being UTF-8.
        source: std::str::Utf8Error,
    },
    /// A DynamoDB image does not fit the type.
    #[cfg(feature = "dynamodb")]
    Image {
        /// The image: `NewImage`, `OldImage` or `Keys`.
        part: &'static str,
        /// The type it was decoded as.
        target: &'static str,
        /// The attribute-value decoder's error.
        source: serde_dynamo::Error,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Missing { part } => write!(
                f,
                "the record has no {part}: decode it as another type, or `Ignore` and read the record"
            ),
            DecodeError::Json { part, target, .. } => {
                write!(f, "the record's {part} is not JSON of type `{target}`")
            }
            DecodeError::NotUtf8 { part, .. } => {
                write!(
                    f,
                    "the record's {part} is not UTF-8 text: take it as `Binary`"
                )
            }
            #[cfg(feature = "dynamodb")]
            DecodeError::Image { part, target, .. } => {
                write!(f, "the record's {part} does not decode as `{target}`")
            }
        }
    }
}

impl StdError for DecodeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            DecodeError::Missing { .. } => None,
            DecodeError::Json { source, .. } => Some(source),
            DecodeError::NotUtf8 { source, .. } => Some(source),
            #[cfg(feature = "dynamodb")]
            DecodeError::Image { source, .. } => Some(source),
        }
    }
}

/// The record as text: an SQS body as it is, Kinesis data as UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

/// Kinesis data as bytes, base64-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binary(pub Vec<u8>);

/// No decoding: the handler reads what it needs from the record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ignore;

impl<S: Source> Decode<S> for Ignore {
    fn decode(_: &S::Message) -> Result<Ignore, DecodeError> {
        Ok(Ignore)
    }
}

#[cfg(feature = "sqs")]
mod sqs {
    use super::*;
    use crate::batch::source::Sqs;

    impl<T: DeserializeOwned> Decode<Sqs> for T {
        fn decode(message: &<Sqs as Source>::Message) -> Result<T, DecodeError> {
            let body = message
                .body
                .as_deref()
                .ok_or(DecodeError::Missing { part: "body" })?;
            serde_json::from_str(body).map_err(|source| DecodeError::Json {
                part: "body",
                target: std::any::type_name::<T>(),
                source,
            })
        }
    }

    impl Decode<Sqs> for Text {
        fn decode(message: &<Sqs as Source>::Message) -> Result<Text, DecodeError> {
            match &message.body {
                Some(body) => Ok(Text(body.clone())),
                None => Err(DecodeError::Missing { part: "body" }),
            }
        }
    }
}

#[cfg(feature = "kinesis")]
mod kinesis {
    use super::*;
    use crate::batch::source::Kinesis;

    impl<T: DeserializeOwned> Decode<Kinesis> for T {
        fn decode(message: &<Kinesis as Source>::Message) -> Result<T, DecodeError> {
            serde_json::from_slice(&message.kinesis.data).map_err(|source| DecodeError::Json {
                part: "data",
                target: std::any::type_name::<T>(),
                source,
            })
        }
    }

    impl Decode<Kinesis> for Text {
        fn decode(message: &<Kinesis as Source>::Message) -> Result<Text, DecodeError> {
            match std::str::from_utf8(&message.kinesis.data) {
                Ok(text) => Ok(Text(text.to_owned())),
                Err(source) => Err(DecodeError::NotUtf8 {
                    part: "data",
                    source,
                }),
            }
        }
    }

    impl Decode<Kinesis> for Binary {
        fn decode(message: &<Kinesis as Source>::Message) -> Result<Binary, DecodeError> {
            Ok(Binary(message.kinesis.data.to_vec()))
        }
    }
}

#[cfg(feature = "dynamodb")]
pub use dynamodb::{Change, Keys, NewImage, OldImage};

#[cfg(feature = "dynamodb")]
mod dynamodb {
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::batch::source::DynamoDb;

    type Message = <DynamoDb as Source>::Message;

    /// The item after the change (`NewImage`), as `T`; a record without one (a `REMOVE`, a
    /// stream of keys only) fails. The stream must send new images (`NEW_IMAGE` or
    /// `NEW_AND_OLD_IMAGES`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct NewImage<T>(pub T);

    /// The item before the change (`OldImage`), as `T`; a record without one (an `INSERT`, a
    /// stream without old images) fails.
    #[derive(Debug, Clone, PartialEq)]
    pub struct OldImage<T>(pub T);

    /// The changed item's key attributes (`Keys`), as `T`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Keys<T>(pub T);

    /// Both images of a change, each as `T` when the record has it: `INSERT` has a new image
    /// only, `REMOVE` an old one only, `MODIFY` both (with `NEW_AND_OLD_IMAGES`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Change<T> {
        /// The item before the change.
        pub old: Option<T>,
        /// The item after the change.
        pub new: Option<T>,
    }

    fn image<T: DeserializeOwned>(
        item: &serde_dynamo::Item,
        part: &'static str,
    ) -> Result<Option<T>, DecodeError> {
        if item.is_empty() {
            return Ok(None);
        }
        serde_dynamo::from_item(item.clone())
            .map(Some)
            .map_err(|source| DecodeError::Image {
                part,
                target: std::any::type_name::<T>(),
                source,
            })
    }

    fn required<T: DeserializeOwned>(
        item: &serde_dynamo::Item,
        part: &'static str,
    ) -> Result<T, DecodeError> {
        image(item, part)?.ok_or(DecodeError::Missing { part })
    }

    impl<T: DeserializeOwned> Decode<DynamoDb> for NewImage<T> {
        fn decode(message: &Message) -> Result<Self, DecodeError> {
            required(&message.change.new_image, "NewImage").map(NewImage)
        }
    }

    impl<T: DeserializeOwned> Decode<DynamoDb> for OldImage<T> {
        fn decode(message: &Message) -> Result<Self, DecodeError> {
            required(&message.change.old_image, "OldImage").map(OldImage)
        }
    }

    impl<T: DeserializeOwned> Decode<DynamoDb> for Keys<T> {
        fn decode(message: &Message) -> Result<Self, DecodeError> {
            required(&message.change.keys, "Keys").map(Keys)
        }
    }

    impl<T: DeserializeOwned> Decode<DynamoDb> for Change<T> {
        fn decode(message: &Message) -> Result<Self, DecodeError> {
            Ok(Change {
                old: image(&message.change.old_image, "OldImage")?,
                new: image(&message.change.new_image, "NewImage")?,
            })
        }
    }
}

//! The [`Handler`] trait, its closure form, and how events are decoded ([`FromEvent`]).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::diagnostic::readable_type_name;
use crate::{Context, Diagnostic, IntoReply};

/// A Lambda function: called once per event with the decoded event and its [`Context`].
///
/// Closures and functions are handlers already; implement the trait for a struct when the
/// handler keeps state (a connection, a cache) or wants its own error type. The `M`
/// parameter only tells the forms apart; leave it out when implementing the trait.
///
/// # The forms that compile, and the mistakes rustc reports obscurely
///
/// - A closure `|event: Event, ctx: &mut Context| -> Result<Output, Diagnostic>` (or with
///   `ctx: &Context`). **Write the context's type**: `|event: Event, _ctx|` makes rustc say
///   "implementation of `FnOnce` is not general enough", because a closure stored before it is
///   called cannot infer that it takes a reference of any lifetime.
/// - A function `fn handle(event: Event, ctx: &mut Context) -> Result<Output, Diagnostic>`,
///   or `ctx: &Context`: deferred work is registered through `&Context` too.
/// - The error type of the closure and function forms is [`Diagnostic`]: `?` converts any
///   error into one. A closure whose error type is left to inference (`Ok(x)` and `?` of two
///   error types) cannot be typed by rustc; name the return type, `-> Result<_, Diagnostic>`.
/// - A deferred closure that only panics (`ctx.after(|_| panic!("…"))`) has the type `!` in
///   edition 2024, which is not a [`crate::DeferredResult`]: give it a return type,
///   `ctx.after(|_| -> () { panic!("…") })`. The compiler's message says so.
///
/// ```
/// use coda_lambda::{Context, Diagnostic, Handler, Reply};
/// use serde_json::Value;
///
/// // A closure: the context's type is written.
/// let closure = |event: Value, ctx: &mut Context| -> Result<Reply, Diagnostic> {
///     ctx.after(|_| -> () { panic!("caught and counted, never changes the answer") });
///     Ok(Reply::new(event))
/// };
///
/// // A function taking `&Context`.
/// fn by_ref(event: Value, ctx: &Context) -> Result<Value, Diagnostic> {
///     ctx.after(|d| log::info!("answered {}", d.request_id()));
///     Ok(event)
/// }
///
/// // A struct with state and its own error type.
/// struct Counter { seen: u64 }
///
/// impl Handler for Counter {
///     type Event = Value;
///     type Output = u64;
///     type Error = std::io::Error;
///
///     fn call(&mut self, _event: Value, _ctx: &mut Context) -> Result<u64, std::io::Error> {
///         self.seen += 1;
///         Ok(self.seen)
///     }
/// }
///
/// fn assert_handler<H: Handler<M>, M>(_: H) {}
/// assert_handler(closure);
/// assert_handler(by_ref);
/// assert_handler(Counter { seen: 0 });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Coda handler",
    label = "not a handler",
    note = "a closure handler names its context's type and returns `Result<_, Diagnostic>`: `|event: MyEvent, ctx: &mut Context| -> Result<MyOutput, Diagnostic> {{ … }}` (`ctx: &Context` works too)",
    note = "the event must implement `serde::Deserialize` (or be `coda_lambda::Bytes`) and the output `serde::Serialize` (or be a `Reply` or `Bytes`); see the `Handler` docs for every form"
)]
pub trait Handler<M = ()> {
    /// The event type: any `serde` type (JSON), or [`Bytes`] for the raw payload.
    type Event: FromEvent;
    /// What a successful call returns: any `Serialize` type, [`Bytes`], or a
    /// [`crate::Reply`].
    type Output: IntoReply;
    /// The error type; anything that converts into a [`Diagnostic`].
    type Error: Into<Diagnostic>;

    /// Handles one event.
    fn call(&mut self, event: Self::Event, ctx: &mut Context) -> Result<Self::Output, Self::Error>;
}

/// Marks the closure form of [`Handler`] taking `&mut Context`; never named by users.
#[doc(hidden)]
pub struct FnHandler<E, O>(PhantomData<fn(E) -> O>);

/// Marks the closure form of [`Handler`] taking `&Context`; never named by users.
#[doc(hidden)]
pub struct FnRefHandler<E, O>(PhantomData<fn(E) -> O>);

impl<F, E, O> Handler<FnHandler<E, O>> for F
where
    F: FnMut(E, &mut Context) -> Result<O, Diagnostic>,
    E: FromEvent,
    O: IntoReply,
{
    type Event = E;
    type Output = O;
    type Error = Diagnostic;

    fn call(&mut self, event: E, ctx: &mut Context) -> Result<O, Diagnostic> {
        self(event, ctx)
    }
}

impl<F, E, O> Handler<FnRefHandler<E, O>> for F
where
    F: FnMut(E, &Context) -> Result<O, Diagnostic>,
    E: FromEvent,
    O: IntoReply,
{
    type Event = E;
    type Output = O;
    type Error = Diagnostic;

    fn call(&mut self, event: E, ctx: &mut Context) -> Result<O, Diagnostic> {
        self(event, ctx)
    }
}

/// How an event payload becomes the handler's event type.
///
/// Implemented for every `serde::de::DeserializeOwned` type (the payload is JSON) and for
/// [`Bytes`] (the payload as it came, for non-JSON events).
pub trait FromEvent: Sized {
    /// Decodes the payload. `payload` may be taken (for raw bytes) or only read.
    /// A failure becomes a `Runtime.UnmarshalError` and the handler is not called.
    fn from_event(payload: &mut Vec<u8>) -> Result<Self, Diagnostic>;
}

impl<T: DeserializeOwned> FromEvent for T {
    fn from_event(payload: &mut Vec<u8>) -> Result<Self, Diagnostic> {
        match serde_json::from_slice(payload) {
            Ok(value) => Ok(value),
            // Decode again only on failure, tracking the path, to name where it went wrong.
            Err(_) => Err(unmarshal_error::<T>(payload)),
        }
    }
}

fn unmarshal_error<T: DeserializeOwned>(payload: &[u8]) -> Diagnostic {
    let type_name = readable_type_name(std::any::type_name::<T>());
    let message = if payload.iter().all(u8::is_ascii_whitespace) {
        format!("could not decode the event as {type_name}: the event is empty")
    } else {
        let mut de = serde_json::Deserializer::from_slice(payload);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) if e.path().to_string() != "." => {
                format!(
                    "could not decode the event as {type_name}: at `{}`: {}",
                    e.path(),
                    e.inner()
                )
            }
            Err(e) => format!("could not decode the event as {type_name}: {}", e.inner()),
            // The value decoded; what failed is what follows it.
            Ok(_) => match de.end() {
                Err(e) => format!("could not decode the event as {type_name}: {e}"),
                Ok(()) => format!("could not decode the event as {type_name}"),
            },
        }
    };
    Diagnostic::new("Runtime.UnmarshalError", message)
}

/// A raw event payload (or response body): the bytes exactly as they came.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(Vec<u8>);

impl Bytes {
    /// The bytes as a vector.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }

    /// The bytes as UTF-8 text, when they are.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl FromEvent for Bytes {
    fn from_event(payload: &mut Vec<u8>) -> Result<Self, Diagnostic> {
        Ok(Bytes(std::mem::take(payload)))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes(v)
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(b: Bytes) -> Vec<u8> {
        b.0
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            Some(text) => write!(f, "Bytes({text:?})"),
            None => write!(f, "Bytes({} bytes)", self.0.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Order {
        id: String,
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        cents: u64,
    }

    /// §9 #10–#11: decode failures name the type and the JSON path, and say when it is empty.
    #[test]
    fn unmarshal_errors_name_the_path() {
        let mut bad = br#"{"id":"o-1","items":[{"cents":1},{"cents":"two"}]}"#.to_vec();
        let d = Order::from_event(&mut bad).unwrap_err();
        assert_eq!(d.error_type(), "Runtime.UnmarshalError");
        assert!(d.message().contains("Order"), "{}", d.message());
        assert!(d.message().contains("items[1].cents"), "{}", d.message());

        let d = Order::from_event(&mut Vec::new()).unwrap_err();
        assert!(
            d.message().contains("the event is empty"),
            "{}",
            d.message()
        );

        let d = Order::from_event(&mut b"not json".to_vec()).unwrap_err();
        assert!(d.message().contains("expected"), "{}", d.message());

        let d = Order::from_event(&mut br#"{"id":"x","items":[]} trailing"#.to_vec()).unwrap_err();
        assert!(d.message().contains("trailing"), "{}", d.message());
    }

    /// Raw events are handed over without copying or decoding.
    #[test]
    fn bytes_take_the_payload() {
        let mut payload = vec![0xff, 0x00, b'a'];
        let b = Bytes::from_event(&mut payload).unwrap();
        assert_eq!(&*b, &[0xff, 0x00, b'a']);
        assert!(payload.is_empty());
    }
}

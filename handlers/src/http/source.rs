//! The one dispatch on the event's source: its request builder and its response shape.

use std::sync::Arc;

use http::response::Parts;

use super::error::AdapterError;
use super::event::Decoded;
#[cfg(any(
    feature = "apigw_v1",
    feature = "apigw_v2",
    feature = "alb",
    feature = "function_url"
))]
use super::origin::Origin;
use super::request::Request;

/// The response shape the event's source expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// API Gateway REST: `headers` and `multiValueHeaders`.
    #[cfg(feature = "apigw_v1")]
    ApiGatewayV1,
    /// Payload 2.0: joined `headers` and `cookies`.
    #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
    PayloadV2,
    /// ALB, in the request's header mode.
    #[cfg(feature = "alb")]
    Alb {
        /// The request came with `multiValueHeaders`.
        multi_value: bool,
    },
}

/// The request of a decoded event and the shape of its response.
pub(crate) fn request(
    decoded: Decoded<'_>,
    payload: &Arc<Vec<u8>>,
    stage_in_path: bool,
) -> (Format, Result<Request, AdapterError>) {
    // Only the API Gateway sources have stages; the payload is kept for the request context.
    let _ = (stage_in_path, payload);
    match decoded.origin {
        #[cfg(feature = "apigw_v1")]
        Origin::ApiGatewayV1 => (
            Format::ApiGatewayV1,
            super::apigw_v1::request(decoded, payload, stage_in_path),
        ),
        #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
        Origin::ApiGatewayV2 | Origin::FunctionUrl => (
            Format::PayloadV2,
            super::payload_v2::request(decoded, payload, stage_in_path),
        ),
        #[cfg(feature = "alb")]
        Origin::Alb => {
            let multi_value = decoded.event.multi_value_headers.is_some();
            (
                Format::Alb { multi_value },
                super::alb::request(decoded, payload),
            )
        }
        // `event::decode` hands over enabled origins only.
        #[allow(unreachable_patterns)]
        origin => unreachable!("event::decode returned {origin:?}, whose feature is off"),
    }
}

/// The response JSON for `format`.
pub(crate) fn response(format: Format, head: &Parts, body: &[u8]) -> Vec<u8> {
    let _ = (head, body);
    match format {
        #[cfg(feature = "apigw_v1")]
        Format::ApiGatewayV1 => super::apigw_v1::response(head, body),
        #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
        Format::PayloadV2 => super::payload_v2::response(head, body),
        #[cfg(feature = "alb")]
        Format::Alb { multi_value } => super::alb::response(head, body, multi_value),
    }
}

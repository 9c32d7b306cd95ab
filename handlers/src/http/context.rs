//! [`RequestContext`]: the source's `requestContext`, typed with `aws_lambda_events`, decoded
//! from the event only when a handler asks for it (most never do, and a context that does
//! not fit the typed struct must not fail the request). The event's payload is kept — moved,
//! not copied — for that.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde_json::value::RawValue;

use super::origin::Origin;

/// The typed `requestContext` of the event, one variant per source (each behind its feature).
#[derive(Clone, Debug)]
#[non_exhaustive]
// Decoded at most once per request and never moved after: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum RequestContext {
    /// API Gateway REST API: identity, authorizer, stage, resource path, …
    #[cfg(feature = "apigw_v1")]
    ApiGatewayV1(aws_lambda_events::apigw::ApiGatewayProxyRequestContext),
    /// API Gateway HTTP API: route key, authorizer (JWT claims, Lambda, IAM), `http`, …
    #[cfg(feature = "apigw_v2")]
    ApiGatewayV2(aws_lambda_events::apigw::ApiGatewayV2httpRequestContext),
    /// ALB target group: the target group ARN.
    #[cfg(feature = "alb")]
    Alb(aws_lambda_events::alb::AlbTargetGroupRequestContext),
    /// Function URL: IAM authorizer, `http`, …
    #[cfg(feature = "function_url")]
    FunctionUrl(aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequestContext),
}

/// The event's payload, where its `requestContext` is, and what has been decoded from it.
#[derive(Debug)]
pub(crate) struct RawContext {
    origin: Origin,
    payload: Arc<Vec<u8>>,
    span: OnceLock<Option<Range<usize>>>,
    typed: OnceLock<Option<RequestContext>>,
    authorizer: OnceLock<Option<serde_json::Value>>,
}

impl RawContext {
    /// The context of the event `payload` (already decoded once, so valid JSON and UTF-8).
    pub(crate) fn new(origin: Origin, payload: Arc<Vec<u8>>) -> RawContext {
        RawContext {
            origin,
            payload,
            span: OnceLock::new(),
            typed: OnceLock::new(),
            authorizer: OnceLock::new(),
        }
    }

    /// The context as the source sent it, found in the payload on first use.
    pub(crate) fn json(&self) -> Option<&str> {
        let span = self.span.get_or_init(|| {
            #[derive(serde::Deserialize)]
            struct Event<'a> {
                #[serde(borrow, rename = "requestContext")]
                request_context: Option<&'a RawValue>,
            }
            let text = std::str::from_utf8(&self.payload).ok()?;
            let event: Event<'_> = serde_json::from_str(text).ok()?;
            let raw = event.request_context?.get();
            let start = (raw.as_ptr() as usize).checked_sub(self.payload.as_ptr() as usize)?;
            Some(start..start + raw.len())
        });
        std::str::from_utf8(self.payload.get(span.clone()?)?).ok()
    }

    /// The typed context, decoded on first use; `None` (and one warning) when it does not fit.
    pub(crate) fn typed(&self) -> Option<&RequestContext> {
        self.typed
            .get_or_init(|| match typed(self.origin, self.json()?) {
                Ok(context) => context,
                Err(e) => {
                    log::warn!(
                        "the {} requestContext does not fit its typed form: {e}",
                        self.origin
                    );
                    None
                }
            })
            .as_ref()
    }

    /// `requestContext.authorizer` as JSON, decoded on first use.
    pub(crate) fn authorizer(&self) -> Option<&serde_json::Value> {
        self.authorizer
            .get_or_init(|| {
                #[derive(serde::Deserialize)]
                struct Authorizer {
                    #[serde(default)]
                    authorizer: Option<serde_json::Value>,
                }
                serde_json::from_str::<Authorizer>(self.json()?)
                    .ok()
                    .and_then(|a| a.authorizer)
                    .filter(|a| !a.is_null())
            })
            .as_ref()
    }
}

/// Decodes the typed context of `origin` (`Ok(None)`: its feature is off).
fn typed(origin: Origin, json: &str) -> Result<Option<RequestContext>, serde_json::Error> {
    let _ = json;
    Ok(match origin {
        #[cfg(feature = "apigw_v1")]
        Origin::ApiGatewayV1 => Some(RequestContext::ApiGatewayV1(serde_json::from_str(json)?)),
        #[cfg(feature = "apigw_v2")]
        Origin::ApiGatewayV2 => Some(RequestContext::ApiGatewayV2(serde_json::from_str(json)?)),
        #[cfg(feature = "alb")]
        Origin::Alb => Some(RequestContext::Alb(serde_json::from_str(json)?)),
        #[cfg(feature = "function_url")]
        Origin::FunctionUrl => Some(RequestContext::FunctionUrl(serde_json::from_str(json)?)),
        #[allow(unreachable_patterns)]
        _ => None,
    })
}

//! [`RequestExt`]: what the event said besides the HTTP request — its origin, raw path,
//! path parameters, stage variables, request context and authorizer — read from the
//! request's extensions, where the adapter (and the router, for its captures) put it.

use std::borrow::Cow;

use super::context::{RawContext, RequestContext};
use super::origin::Origin;
use super::params::Params;
use super::uri::query_pairs;

/// The event's extras, stored once in the request's extensions by the adapter (behind an
/// `Arc`: extensions must be `Clone`, and cloning this should cost nothing).
#[derive(Debug)]
pub(crate) struct EventInfo {
    pub(crate) origin: Origin,
    pub(crate) raw_path: String,
    pub(crate) stage: Option<String>,
    pub(crate) path_parameters: Params,
    pub(crate) stage_variables: Params,
    pub(crate) context: Option<RawContext>,
}

/// How [`EventInfo`] is kept in the extensions.
#[derive(Clone, Debug)]
pub(crate) struct Info(pub(crate) std::sync::Arc<EventInfo>);

/// The values a [`super::Router`] pattern captured, stored in the request's extensions.
#[derive(Clone, Debug, Default)]
pub(crate) struct RouteParams(pub(crate) Params);

static NO_PARAMS: Params = Params::new();

/// The event's extras on an `http::Request` built by the adapter. On a request built any
/// other way the methods answer "nothing" (`None`, empty parameters, the URI's path).
///
/// ```
/// use coda_handlers::http::{Body, Request, RequestExt, Response};
///
/// fn handler(req: &Request) -> Response<Body> {
///     let id = req.path_param("id").unwrap_or("none");
///     let from = req.origin().map_or("test", |o| o.as_str());
///     Response::new(Body::from(format!("{id} via {from}")))
/// }
/// let request = Request::new(Body::empty());
/// assert_eq!(handler(&request).body().as_str(), Some("none via test"));
/// ```
pub trait RequestExt {
    /// Which source sent the event.
    fn origin(&self) -> Option<Origin>;

    /// The path exactly as the event gave it (`path` of REST and ALB events, `rawPath` of
    /// payload 2.0), before the stage rule; the URI's path when the adapter did not build
    /// the request.
    fn raw_http_path(&self) -> &str;

    /// The API Gateway stage (`requestContext.stage`), `$default` included.
    fn stage(&self) -> Option<&str>;

    /// The query's (name, value) pairs, decoded, in the request's order.
    fn query_pairs(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)>;

    /// The first value of query parameter `name`, decoded.
    fn query_param(&self, name: &str) -> Option<Cow<'_, str>>;

    /// API Gateway's `pathParameters` (such as `proxy` for a `{proxy+}` resource).
    fn path_parameters(&self) -> &Params;

    /// A path parameter: what the router's pattern captured, else API Gateway's
    /// `pathParameters`.
    fn path_param(&self, name: &str) -> Option<&str>;

    /// API Gateway's `stageVariables`.
    fn stage_variables(&self) -> &Params;

    /// The typed request context (`aws_lambda_events`), decoded on first use; `None` when
    /// the event had none or it does not fit the typed form (see [`RequestExt::request_context_json`]).
    fn request_context(&self) -> Option<&RequestContext>;

    /// The request context exactly as the event sent it, as JSON text.
    fn request_context_json(&self) -> Option<&str>;

    /// `requestContext.authorizer` as JSON, whatever its shape: a REST API's Cognito `claims`
    /// or Lambda authorizer context, an HTTP API's `jwt.claims` / `lambda` / `iam`, a
    /// Function URL's `iam`.
    fn authorizer(&self) -> Option<&serde_json::Value>;
}

impl<B> RequestExt for http::Request<B> {
    fn origin(&self) -> Option<Origin> {
        info(self).map(|i| i.origin)
    }

    fn raw_http_path(&self) -> &str {
        info(self).map_or(self.uri().path(), |i| i.raw_path.as_str())
    }

    fn stage(&self) -> Option<&str> {
        info(self).and_then(|i| i.stage.as_deref())
    }

    fn query_pairs(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        query_pairs(self.uri().query().unwrap_or_default()).collect()
    }

    fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        query_pairs(self.uri().query().unwrap_or_default())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn path_parameters(&self) -> &Params {
        info(self).map_or(&NO_PARAMS, |i| &i.path_parameters)
    }

    fn path_param(&self, name: &str) -> Option<&str> {
        self.extensions()
            .get::<RouteParams>()
            .and_then(|r| r.0.get(name))
            .or_else(|| self.path_parameters().get(name))
    }

    fn stage_variables(&self) -> &Params {
        info(self).map_or(&NO_PARAMS, |i| &i.stage_variables)
    }

    fn request_context(&self) -> Option<&RequestContext> {
        info(self)?.context.as_ref()?.typed()
    }

    fn request_context_json(&self) -> Option<&str> {
        info(self)?.context.as_ref()?.json()
    }

    fn authorizer(&self) -> Option<&serde_json::Value> {
        info(self)?.context.as_ref()?.authorizer()
    }
}

fn info<B>(request: &http::Request<B>) -> Option<&EventInfo> {
    request.extensions().get::<Info>().map(|i| &*i.0)
}

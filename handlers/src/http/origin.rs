//! [`Origin`]: which AWS service sent an HTTP event (and so which response shape it expects).

use std::fmt;

/// The service an HTTP event came from. The response is shaped for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// An API Gateway REST API (Lambda proxy integration, payload format 1.0).
    ApiGatewayV1,
    /// An API Gateway HTTP API (payload format 2.0).
    ApiGatewayV2,
    /// An Application Load Balancer target group.
    Alb,
    /// A Lambda Function URL (payload format 2.0).
    FunctionUrl,
}

impl Origin {
    /// A short identifier: `apigw_v1`, `apigw_v2`, `alb` or `function_url` (the names of the
    /// crate's features).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::ApiGatewayV1 => "apigw_v1",
            Origin::ApiGatewayV2 => "apigw_v2",
            Origin::Alb => "alb",
            Origin::FunctionUrl => "function_url",
        }
    }

    /// Whether this build of the crate decodes events of this origin (its feature is on).
    pub fn is_enabled(self) -> bool {
        match self {
            Origin::ApiGatewayV1 => cfg!(feature = "apigw_v1"),
            Origin::ApiGatewayV2 => cfg!(feature = "apigw_v2"),
            Origin::Alb => cfg!(feature = "alb"),
            Origin::FunctionUrl => cfg!(feature = "function_url"),
        }
    }
}

impl fmt::Display for Origin {
    /// The service's name as people say it: `API Gateway REST API (payload 1.0)`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::ApiGatewayV1 => "API Gateway REST API (payload 1.0)",
            Origin::ApiGatewayV2 => "API Gateway HTTP API (payload 2.0)",
            Origin::Alb => "ALB target group",
            Origin::FunctionUrl => "Function URL (payload 2.0)",
        })
    }
}

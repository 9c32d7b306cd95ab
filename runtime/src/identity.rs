//! Mobile-SDK client context and Cognito identity, parsed leniently (`docs/runtime-api.md` §2.2,
//! §9 #7): key case varies (`Client` / `client`), `custom` and `env` values may be any JSON,
//! scalars where strings are expected are taken as their text, and `null` is empty.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

/// `Lambda-Runtime-Client-Context`: what a mobile SDK caller said about itself.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ClientContext {
    /// The calling application.
    #[serde(default, alias = "Client")]
    pub client: ClientApplication,
    /// Values the caller chose; any JSON (strings, numbers, objects).
    #[serde(default, alias = "Custom", deserialize_with = "lenient_map")]
    pub custom: HashMap<String, serde_json::Value>,
    /// The caller's environment (platform, model, locale…); any JSON.
    #[serde(default, alias = "Env", deserialize_with = "lenient_map")]
    pub env: HashMap<String, serde_json::Value>,
}

/// The `client` part of a [`ClientContext`]. Absent fields are empty strings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ClientApplication {
    /// Installation id of the app.
    #[serde(
        default,
        alias = "installationId",
        alias = "InstallationId",
        deserialize_with = "text"
    )]
    pub installation_id: String,
    /// App title.
    #[serde(
        default,
        alias = "appTitle",
        alias = "AppTitle",
        deserialize_with = "text"
    )]
    pub app_title: String,
    /// App version name.
    #[serde(
        default,
        alias = "appVersionName",
        alias = "AppVersionName",
        deserialize_with = "text"
    )]
    pub app_version_name: String,
    /// App version code.
    #[serde(
        default,
        alias = "appVersionCode",
        alias = "AppVersionCode",
        deserialize_with = "text"
    )]
    pub app_version_code: String,
    /// App package name.
    #[serde(
        default,
        alias = "appPackageName",
        alias = "AppPackageName",
        deserialize_with = "text"
    )]
    pub app_package_name: String,
}

/// `Lambda-Runtime-Cognito-Identity`: the Cognito identity that signed the call.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CognitoIdentity {
    /// The identity id.
    #[serde(
        default,
        alias = "cognito_identity_id",
        alias = "CognitoIdentityId",
        deserialize_with = "text"
    )]
    #[serde(rename = "cognitoIdentityId")]
    pub identity_id: String,
    /// The identity pool id.
    #[serde(
        default,
        alias = "cognito_identity_pool_id",
        alias = "CognitoIdentityPoolId",
        deserialize_with = "text"
    )]
    #[serde(rename = "cognitoIdentityPoolId")]
    pub identity_pool_id: String,
}

/// Any JSON scalar as text; `null` (and objects or arrays) as empty.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    })
}

/// An object of any values; `null` or a non-object as empty.
fn lenient_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<HashMap<String, serde_json::Value>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => HashMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §9 #7: capitalised keys, non-string custom values and numeric fields are accepted.
    #[test]
    fn client_context_variants() {
        let cc: ClientContext = serde_json::from_str(
            r#"{"Client":{"installation_id":"i","app_title":"t","app_version_code":42},
                "custom":{"n":1,"s":"x","o":{"k":true}},"env":null}"#,
        )
        .unwrap();
        assert_eq!(cc.client.installation_id, "i");
        assert_eq!(cc.client.app_version_code, "42");
        assert_eq!(cc.custom["n"], serde_json::json!(1));
        assert_eq!(cc.custom["o"]["k"], serde_json::json!(true));
        assert!(cc.env.is_empty());
        let empty: ClientContext = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, ClientContext::default());
    }

    /// Both the documented camelCase and snake_case spellings of the identity keys work.
    #[test]
    fn cognito_identity_variants() {
        let a: CognitoIdentity =
            serde_json::from_str(r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#)
                .unwrap();
        let b: CognitoIdentity = serde_json::from_str(
            r#"{"cognito_identity_id":"id","cognito_identity_pool_id":"pool"}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.identity_pool_id, "pool");
    }
}

//! Credentials (pure): what a credentials Secret holds for each source, read from its data with
//! errors that name keys, never values, and `Debug` output that hides every secret.

use crate::probe::{Failure, FailureKind};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use url::Url;

/// Default OAuth2 token endpoint of Redpanda Cloud.
pub const DEFAULT_TOKEN_URL: &str = "https://auth.prd.cloud.redpanda.com/oauth/token";
/// Default audience of Redpanda Cloud tokens.
pub const DEFAULT_AUDIENCE: &str = "cloudv2-production.redpanda.cloud";

/// Operator-wide defaults for keys a credentials Secret may leave out.
#[derive(Debug, Clone)]
pub struct AuthDefaults {
    /// Token endpoint.
    pub token_url: Url,
    /// Token audience.
    pub audience: String,
}

impl Default for AuthDefaults {
    fn default() -> Self {
        AuthDefaults {
            token_url: Url::parse(DEFAULT_TOKEN_URL).expect("default token URL is valid"),
            audience: DEFAULT_AUDIENCE.to_string(),
        }
    }
}

/// What a credentials Secret holds.
#[derive(Clone)]
pub enum Credentials {
    /// OAuth2 client credentials.
    ClientCredentials {
        /// Client id (not secret, may be logged).
        client_id: String,
        /// Client secret.
        client_secret: SecretString,
        /// Token endpoint.
        token_url: Url,
        /// Token audience.
        audience: String,
    },
    /// A bearer token used as is.
    StaticToken(SecretString),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ClientCredentials {
                client_id,
                token_url,
                audience,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("token_url", &token_url.as_str())
                .field("audience", audience)
                .finish_non_exhaustive(),
            Credentials::StaticToken(_) => f.write_str("StaticToken(..)"),
        }
    }
}

impl Credentials {
    /// Reads credentials from a Secret's data. The message of an error names the keys, never
    /// their values.
    pub fn from_secret_data(
        data: &BTreeMap<String, Vec<u8>>,
        defaults: &AuthDefaults,
    ) -> Result<Self, Failure> {
        let get = |key: &str| -> Result<Option<String>, Failure> {
            match data.get(key) {
                None => Ok(None),
                Some(v) => {
                    let s = String::from_utf8(v.clone()).map_err(|_| {
                        Failure::new(
                            FailureKind::CredentialsInvalid,
                            format!("key {key} of the credentials Secret is not UTF-8 text"),
                        )
                    })?;
                    let s = s.trim().to_string();
                    Ok((!s.is_empty()).then_some(s))
                }
            }
        };
        let invalid = |msg: String| Failure::new(FailureKind::CredentialsInvalid, msg);
        let token = get("token")?;
        let client_id = get("client_id")?;
        let client_secret = get("client_secret")?;
        match (token, client_id, client_secret) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(invalid(
                "the credentials Secret holds both token and client_id/client_secret: keep one kind".into(),
            )),
            (Some(token), None, None) => Ok(Credentials::StaticToken(token.into())),
            (None, Some(client_id), Some(client_secret)) => {
                let token_url = match get("token_url")? {
                    None => defaults.token_url.clone(),
                    Some(u) => Url::parse(&u)
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                        .ok_or_else(|| {
                            invalid("key token_url of the credentials Secret is not an http(s) URL".into())
                        })?,
                };
                Ok(Credentials::ClientCredentials {
                    client_id,
                    client_secret: client_secret.into(),
                    token_url,
                    audience: get("audience")?.unwrap_or_else(|| defaults.audience.clone()),
                })
            }
            (None, Some(_), None) => Err(invalid(
                "the credentials Secret has client_id but no client_secret".into(),
            )),
            (None, None, Some(_)) => Err(invalid(
                "the credentials Secret has client_secret but no client_id".into(),
            )),
            (None, None, None) => Err(invalid(
                "the credentials Secret holds neither client_id and client_secret nor token".into(),
            )),
        }
    }

    /// Feeds everything that identifies the credential set, secret values included, into `h`.
    /// Only for process-local keyed hashers: the result must never leave the process.
    pub fn hash_secrets(&self, h: &mut impl Hasher) {
        match self {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                token_url,
                audience,
            } => {
                0u8.hash(h);
                client_id.hash(h);
                client_secret.expose_secret().hash(h);
                token_url.as_str().hash(h);
                audience.hash(h);
            }
            Credentials::StaticToken(t) => {
                1u8.hash(h);
                t.expose_secret().hash(h);
            }
        }
    }
}

/// How to authenticate to the REST API.
#[derive(Clone, Default)]
pub enum ConnectAuth {
    /// No credentials.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name (not secret).
        username: String,
        /// Password.
        password: SecretString,
    },
    /// A bearer token.
    Bearer(SecretString),
}

impl std::fmt::Debug for ConnectAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectAuth::None => f.write_str("None"),
            ConnectAuth::Basic { username, .. } => write!(f, "Basic({username}, ..)"),
            ConnectAuth::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

impl ConnectAuth {
    /// Reads `username` + `password`, or `token`, from a Secret's data; the error names keys,
    /// never values.
    pub fn from_secret_data(
        data: &std::collections::BTreeMap<String, Vec<u8>>,
    ) -> Result<Self, String> {
        let get = |k: &str| {
            data.get(k)
                .map(|v| String::from_utf8_lossy(v).trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match (get("username"), get("password"), get("token")) {
            (Some(username), Some(password), None) => Ok(ConnectAuth::Basic {
                username,
                password: password.into(),
            }),
            (None, None, Some(token)) => Ok(ConnectAuth::Bearer(token.into())),
            (Some(_), Some(_), Some(_)) => {
                Err("holds both username/password and token: keep one kind".into())
            }
            (Some(_), None, _) => Err("has username but no password".into()),
            (None, Some(_), _) => Err("has password but no username".into()),
            (None, None, None) => Err("holds neither username and password nor token".into()),
        }
    }
}

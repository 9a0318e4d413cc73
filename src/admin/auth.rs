//! How a request proves it may use an agent's admin API.

use std::fmt;

/// The credentials every admin request and the event stream carry.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum AdminAuth {
    /// An agent started with `--admin-insecure-mode`, or one behind a proxy
    /// that authenticates by other means.
    #[default]
    None,
    /// `X-API-Key`: the agent's `--admin-api-key`.
    ApiKey(String),
    /// A multitenant sub-wallet: `Authorization: Bearer TOKEN`, plus the base
    /// agent's API key when it has one. Its events are the ones tagged with
    /// `wallet_id` on the base agent's stream.
    Bearer {
        token: String,
        wallet_id: String,
        api_key: Option<String>,
    },
}

impl AdminAuth {
    /// The headers a request (or the `/ws` handshake) carries.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            AdminAuth::None => Vec::new(),
            AdminAuth::ApiKey(key) => vec![("X-API-Key", key.clone())],
            AdminAuth::Bearer { token, api_key, .. } => {
                let mut headers = vec![("Authorization", format!("Bearer {token}"))];
                if let Some(key) = api_key {
                    headers.push(("X-API-Key", key.clone()));
                }
                headers
            }
        }
    }

    pub fn apply(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        for (name, value) in self.headers() {
            request = request.header(name, value);
        }
        request
    }

    /// The sub-wallet whose events are wanted, when this is one.
    pub fn wallet_id(&self) -> Option<&str> {
        match self {
            AdminAuth::Bearer { wallet_id, .. } => Some(wallet_id),
            _ => None,
        }
    }
}

/// Never prints a secret: `ApiKey(***)`.
impl fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminAuth::None => f.write_str("None"),
            AdminAuth::ApiKey(_) => f.write_str("ApiKey(***)"),
            AdminAuth::Bearer { wallet_id, .. } => write!(f, "Bearer(wallet {wallet_id}, ***)"),
        }
    }
}

/// Where an agent's admin API answers and how to authenticate there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEndpoint {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    pub auth: AdminAuth,
}

impl AdminEndpoint {
    pub fn new(url: &str, auth: AdminAuth) -> AdminEndpoint {
        AdminEndpoint {
            url: url.trim_end_matches('/').to_owned(),
            auth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_sends_its_headers_and_debug_hides_secrets() {
        assert!(AdminAuth::None.headers().is_empty());
        let key = AdminAuth::ApiKey("k3y".into());
        assert_eq!(key.headers(), vec![("X-API-Key", "k3y".to_owned())]);
        let tenant = AdminAuth::Bearer {
            token: "t0ken".into(),
            wallet_id: "w1".into(),
            api_key: Some("k3y".into()),
        };
        assert_eq!(
            tenant.headers(),
            vec![
                ("Authorization", "Bearer t0ken".to_owned()),
                ("X-API-Key", "k3y".to_owned())
            ]
        );
        assert_eq!(tenant.wallet_id(), Some("w1"));
        let shown = format!("{key:?} {tenant:?}");
        assert!(
            !shown.contains("k3y") && !shown.contains("t0ken"),
            "{shown}"
        );
    }
}

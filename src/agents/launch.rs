//! The `aca-py start` command line, built one way for every provider that
//! starts agents. Secrets (the admin API key, the wallet key) travel in
//! ACA-Py's `ACAPY_*` environment variables, never as arguments, so `ps`
//! and `docker inspect`'s command line do not show them.

/// What to start one agent with.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    pub label: &'a str,
    /// Host and port the DIDComm inbound transport binds to.
    pub inbound: (&'a str, u16),
    /// The DIDComm endpoint other agents are told to use.
    pub endpoint: &'a str,
    /// Host and port the admin API binds to.
    pub admin: (&'a str, u16),
    /// Unique within the wallet folder (ACA-Py keys its files by it).
    pub wallet_name: &'a str,
    pub api_key: &'a str,
    /// A RAW key ([`raw_wallet_key`]). A provider that starts an agent again
    /// after a lost port keeps it: the wallet may already exist outside the
    /// agent's home (in a database service), and opens only with its key.
    pub wallet_key: &'a str,
    /// The user's own flags (suite `agent_args`, then the role's `args`).
    pub extra: &'a [String],
    /// More `ACAPY_*` settings, kept out of the command line.
    pub extra_env: &'a [(String, String)],
}

/// A command line and the environment that goes with it.
#[derive(Clone)]
pub struct Command {
    /// Starting with `start`: what follows `aca-py`.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl std::fmt::Debug for Command {
    /// Environment values are secrets: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Command")
            .field("args", &self.args)
            .field("env", &names)
            .finish()
    }
}

impl Launch<'_> {
    pub fn command(&self) -> Command {
        let mut args: Vec<String> = ["start", "--label", self.label]
            .into_iter()
            .map(String::from)
            .collect();
        let mut push = |items: &[&str]| args.extend(items.iter().map(|s| s.to_string()));
        push(&["-it", "http", self.inbound.0, &self.inbound.1.to_string()]);
        push(&["-ot", "http", "-e", self.endpoint]);
        push(&["--admin", self.admin.0, &self.admin.1.to_string()]);
        let flag = |name: &str| {
            self.extra
                .iter()
                .any(|a| a == name || a.starts_with(&format!("{name}=")))
        };
        // Without a ledger unless the user's flags (or their `ACAPY_*`
        // environment) name one: then `--no-ledger` would refuse every
        // ledger request with 403.
        let names_a_ledger = LEDGER_FLAGS.iter().any(|f| flag(f))
            || self
                .extra_env
                .iter()
                .any(|(k, _)| LEDGER_ENV.contains(&k.as_str()));
        if !names_a_ledger {
            push(&["--no-ledger"]);
        }
        push(&["--wallet-type", "askar"]);
        push(&["--wallet-name", self.wallet_name]);
        // A random 32-byte key used as is: no Argon2 derivation, which costs
        // about 0.6 s each time the wallet opens. Not for a multitenant
        // agent of the user's: its sub-wallets would inherit RAW, and the
        // keys the user's scenario gives them are passphrases.
        if !flag("--multitenant") {
            push(&["--wallet-key-derivation-method", "RAW"]);
        }
        push(&["--auto-provision", "--log-level", "warning"]);
        args.extend(self.extra.iter().cloned());
        let mut env = vec![
            ("ACAPY_ADMIN_API_KEY".into(), self.api_key.to_owned()),
            ("ACAPY_WALLET_KEY".into(), self.wallet_key.to_owned()),
        ];
        env.extend(self.extra_env.iter().cloned());
        // A multitenant agent needs a JWT secret to sign its tenants'
        // tokens: generated, like the admin API key, unless given.
        let secret_given =
            flag("--jwt-secret") || env.iter().any(|(k, _)| k == "ACAPY_MULTITENANT_JWT_SECRET");
        if flag("--multitenant") && !secret_given {
            env.push(("ACAPY_MULTITENANT_JWT_SECRET".into(), generate_api_key()));
        }
        Command { args, env }
    }
}

/// The flags that give an agent a ledger.
pub const LEDGER_FLAGS: &[&str] = &[
    "--genesis-url",
    "--genesis-file",
    "--genesis-transactions",
    "--genesis-transactions-list",
];

/// The same, as `ACAPY_*` environment variables.
const LEDGER_ENV: &[&str] = &[
    "ACAPY_GENESIS_URL",
    "ACAPY_GENESIS_FILE",
    "ACAPY_GENESIS_TRANSACTIONS",
    "ACAPY_GENESIS_TRANSACTIONS_LIST",
];

/// A fresh admin API key: 32 hex characters.
pub fn generate_api_key() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What ACA-Py takes as a RAW wallet key: 32 random bytes in base58.
pub fn raw_wallet_key() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bs58::encode(bytes).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(extra: &[String]) -> Command {
        Launch {
            label: "Issuer",
            inbound: ("0.0.0.0", 8020),
            endpoint: "http://issuer:8020",
            admin: ("0.0.0.0", 8021),
            wallet_name: "issuer-wallet",
            api_key: "the-admin-key",
            wallet_key: "the-wallet-key",
            extra,
            extra_env: &[],
        }
        .command()
    }

    #[test]
    fn an_agent_given_a_ledger_is_not_told_it_has_none() {
        let without = launch(&[]).args.join(" ");
        assert!(without.contains("--no-ledger"), "{without}");
        for flag in LEDGER_FLAGS {
            for given in [
                vec![flag.to_string(), "http://ledger:8000/genesis".into()],
                vec![format!("{flag}=/genesis.txn")],
            ] {
                let line = launch(&given).args.join(" ");
                assert!(!line.contains("--no-ledger"), "{line}");
            }
        }
        let by_env = Launch {
            extra_env: &[(
                "ACAPY_GENESIS_URL".into(),
                "http://ledger:8000/genesis".into(),
            )],
            ..base()
        }
        .command();
        assert!(!by_env.args.contains(&"--no-ledger".to_owned()));
    }

    fn base() -> Launch<'static> {
        Launch {
            label: "Issuer",
            inbound: ("0.0.0.0", 8020),
            endpoint: "http://issuer:8020",
            admin: ("0.0.0.0", 8021),
            wallet_name: "issuer-wallet",
            api_key: "the-admin-key",
            wallet_key: "the-wallet-key",
            extra: &[],
            extra_env: &[],
        }
    }

    #[test]
    fn secrets_go_in_the_environment_and_user_flags_last() {
        let cmd = launch(&["--auto-store-credential".into()]);
        let line = cmd.args.join(" ");
        assert!(line.starts_with("start --label Issuer -it http 0.0.0.0 8020"));
        assert!(line.contains("-e http://issuer:8020 --admin 0.0.0.0 8021"));
        assert!(line.ends_with("--log-level warning --auto-store-credential"));
        assert!(!line.contains("the-admin-key"), "{line}");
        for secret_flag in ["admin-api-key", "wallet-key", "jwt-secret"] {
            assert!(!cmd.args.contains(&format!("--{secret_flag}")), "{line}");
        }
        let env: std::collections::HashMap<_, _> = cmd.env.iter().cloned().collect();
        assert_eq!(env["ACAPY_ADMIN_API_KEY"], "the-admin-key");
        assert_eq!(env["ACAPY_WALLET_KEY"], "the-wallet-key");
        assert!(!line.contains("the-wallet-key"), "{line}");
        let debug = format!("{cmd:?}");
        assert!(!debug.contains("the-admin-key") && !debug.contains("the-wallet-key"));
    }

    #[test]
    fn a_multitenant_agent_gets_a_generated_jwt_secret_unless_given() {
        let secret = |cmd: &Command| {
            cmd.env
                .iter()
                .filter(|(k, _)| k == "ACAPY_MULTITENANT_JWT_SECRET")
                .count()
        };
        assert_eq!(secret(&launch(&[])), 0);
        assert_eq!(secret(&launch(&["--multitenant".into()])), 1);
        let given = launch(&["--multitenant".into(), "--jwt-secret".into(), "s".into()]);
        assert_eq!(secret(&given), 0);
    }

    #[test]
    fn every_agent_gets_its_own_keys() {
        assert_ne!(generate_api_key(), generate_api_key());
        assert_ne!(raw_wallet_key(), raw_wallet_key());
        assert_eq!(bs58::decode(raw_wallet_key()).into_vec().unwrap().len(), 32);
        assert_eq!(generate_api_key().len(), 32);
    }
}

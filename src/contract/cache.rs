//! Fetching an agent's API document, and keeping it on disk so that
//! commands that start nothing (`api diff`, coverage of an old report) can
//! use it.
//!
//! # Where and under which key
//!
//! Under the harness cache (`$ACAPY_HARNESS_CACHE`, else the user cache
//! folder's `acapy-harness`, as for the venvs), in `contract/VERSION/`, one
//! file per [`DocumentKey`]:
//!
//! ```text
//! contract/1.3.6/process-askar.json
//! contract/1.3.6/process-askar-anoncreds-multitenant.json
//! contract/1.3.6/docker-askar-plugins-5f0c2a9e1d3b4c7a-image-93d1e07c2f44a6b5.json
//! ```
//!
//! The key is what decides which routes an agent serves: its version, its
//! wallet type (`askar-anoncreds` serves `/anoncreds/*` instead of
//! `/schemas`, `/credential-definitions` and `/revocation`), multitenancy
//! (`/multitenancy/*`, and a base agent serves both wallet types' routes)
//! and its plugins. The source kind is in the key too: an image may carry
//! plugins or patches a PyPI install has not (so a docker key also holds
//! the image id), and an external agent is whatever its operator made of
//! it. Each file holds the key beside the document, so listing reads keys,
//! not file names.
//!
//! A process or docker agent's document is a function of its key, so a
//! cached one is used as it is ([`DocumentKey::reusable`]); an external
//! agent's is fetched again on each run (it costs one request of a few
//! milliseconds) and cached for the commands that start nothing.

use super::document::{ApiDocument, DocumentError};
use crate::admin::AdminClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where every agent serves its description.
pub const DOCUMENT_PATH: &str = "/api/docs/swagger.json";

/// How the agent came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Process,
    Docker,
    External,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Process => "process",
            SourceKind::Docker => "docker",
            SourceKind::External => "external",
        })
    }
}

/// What decides an agent's routes, and so its document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocumentKey {
    pub source: SourceKind,
    /// As the agent reports it (`GET /status`): `1.3.6`.
    pub version: String,
    /// `askar`, `askar-anoncreds` (`--wallet-type`).
    pub wallet_type: String,
    pub multitenant: bool,
    /// `--plugin` modules, sorted, without repeats.
    pub plugins: Vec<String>,
    /// A docker agent's image id: an image rebuilt under the same tag may
    /// carry other code. `None` for PyPI installs, whose version says it all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl DocumentKey {
    pub fn new(
        source: SourceKind,
        version: &str,
        wallet_type: &str,
        multitenant: bool,
        plugins: &[String],
    ) -> DocumentKey {
        let mut plugins = plugins.to_vec();
        plugins.sort();
        plugins.dedup();
        DocumentKey {
            source,
            version: version.strip_prefix('v').unwrap_or(version).to_owned(),
            wallet_type: wallet_type.to_owned(),
            multitenant,
            plugins,
            image: None,
        }
    }

    /// The same key for an agent of the image `id`.
    pub fn with_image(mut self, id: &str) -> DocumentKey {
        self.image = Some(id.to_owned());
        self
    }

    /// The key of a running agent, from its `GET /status/config` answer
    /// (`wallet.type`, `multitenant.enabled`, `external_plugins`): the way
    /// to key an external agent, whose command line the harness never saw.
    pub fn from_status_config(source: SourceKind, version: &str, config: &Value) -> DocumentKey {
        let config = config.get("config").unwrap_or(config);
        let wallet_type = config
            .get("wallet.type")
            .and_then(Value::as_str)
            .unwrap_or("askar");
        let multitenant = config.get("multitenant.enabled") == Some(&Value::Bool(true));
        let plugins: Vec<String> = config
            .get("external_plugins")
            .and_then(Value::as_array)
            .map(|p| {
                p.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        DocumentKey::new(source, version, wallet_type, multitenant, &plugins)
    }

    /// Whether a cached document may stand for a fresh fetch.
    pub fn reusable(&self) -> bool {
        self.source != SourceKind::External
    }

    /// `docker-askar-anoncreds-multitenant-plugins-5f0c2a9e1d3b4c7a-image-0b1c….json`:
    /// the plugin list and the image id are hashed (FNV-1a, stable across
    /// builds) to keep names short.
    pub fn file_name(&self) -> String {
        let mut name = format!("{}-{}", self.source, safe(&self.wallet_type));
        if self.multitenant {
            name.push_str("-multitenant");
        }
        if !self.plugins.is_empty() {
            name.push_str(&format!(
                "-plugins-{:016x}",
                fnv1a(&self.plugins.join("\n"))
            ));
        }
        if let Some(image) = &self.image {
            name.push_str(&format!("-image-{:016x}", fnv1a(image)));
        }
        name.push_str(".json");
        name
    }
}

impl fmt::Display for DocumentKey {
    /// `1.3.6 (process, askar-anoncreds, multitenant, plugins: a, b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {}", self.version, self.source, self.wallet_type)?;
        if self.multitenant {
            f.write_str(", multitenant")?;
        }
        if !self.plugins.is_empty() {
            write!(f, ", plugins: {}", self.plugins.join(", "))?;
        }
        if let Some(image) = &self.image {
            write!(f, ", image {image}")?;
        }
        f.write_str(")")
    }
}

/// Why a document could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("GET {DOCUMENT_PATH} failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("GET {DOCUMENT_PATH} answered {0}")]
    Status(u16),
    #[error("{DOCUMENT_PATH}: {0}")]
    Document(#[from] DocumentError),
}

/// Why the disk cache could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a cached document: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: {source}", path.display())]
    Document {
        path: PathBuf,
        source: DocumentError,
    },
}

/// `GET /api/docs/swagger.json` with the client's credentials, as JSON.
pub async fn fetch_document(client: &AdminClient) -> Result<Value, FetchError> {
    let answer = client
        .request(reqwest::Method::GET, DOCUMENT_PATH)
        .send()
        .await?;
    let status = answer.status();
    if !status.is_success() {
        return Err(FetchError::Status(status.as_u16()));
    }
    let bytes = answer.bytes().await?;
    let document: Value = serde_json::from_slice(&bytes).map_err(DocumentError::from)?;
    // Read once here so a document that is not Swagger 2.0 is never cached.
    ApiDocument::from_value(&document)?;
    Ok(document)
}

/// One file of the cache, as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    key: DocumentKey,
    /// Seconds since the Unix epoch.
    fetched_at: u64,
    document: Value,
}

/// A cached document, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct CachedDocument {
    pub key: DocumentKey,
    pub path: PathBuf,
    pub fetched_at: u64,
}

/// Documents on disk, and the ones already read in memory: each is parsed
/// and its validators compiled once per run, however many cases use it.
pub struct DocumentCache {
    dir: PathBuf,
    loaded: Mutex<HashMap<DocumentKey, Arc<ApiDocument>>>,
}

impl DocumentCache {
    /// The cache in `dir` (its `VERSION/` folders are made as needed).
    pub fn new(dir: impl Into<PathBuf>) -> DocumentCache {
        DocumentCache {
            dir: dir.into(),
            loaded: Mutex::default(),
        }
    }

    /// The harness cache's `contract/` folder.
    pub fn default_location() -> DocumentCache {
        DocumentCache::new(crate::agents::venv::cache_dir().join("contract"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, key: &DocumentKey) -> PathBuf {
        self.dir.join(safe(&key.version)).join(key.file_name())
    }

    /// The document of `key`: from memory, else from disk when the key is
    /// [reusable](DocumentKey::reusable), else fetched with `client` and
    /// stored. What a runner calls once an agent is ready.
    pub async fn get_or_fetch(
        &self,
        key: &DocumentKey,
        client: &AdminClient,
    ) -> Result<Arc<ApiDocument>, GetError> {
        if let Some(found) = self.loaded.lock().unwrap().get(key) {
            return Ok(found.clone());
        }
        if key.reusable() {
            if let Some(found) = self.load(key)? {
                return Ok(self.keep(key, found));
            }
        }
        let raw = fetch_document(client).await?;
        self.store(key, &raw)?;
        let document = ApiDocument::from_value(&raw).map_err(FetchError::from)?;
        Ok(self.keep(key, document))
    }

    fn keep(&self, key: &DocumentKey, document: ApiDocument) -> Arc<ApiDocument> {
        let mut loaded = self.loaded.lock().unwrap();
        loaded
            .entry(key.clone())
            .or_insert_with(|| Arc::new(document))
            .clone()
    }

    /// The cached document of `key`, if there is one.
    pub fn load(&self, key: &DocumentKey) -> Result<Option<ApiDocument>, CacheError> {
        let path = self.path_of(key);
        if !path.exists() {
            return Ok(None);
        }
        let stored = read_stored(&path)?;
        ApiDocument::from_value(&stored.document)
            .map(Some)
            .map_err(|source| CacheError::Document { path, source })
    }

    /// Writes `document` under `key` (whole or not at all: written aside,
    /// then renamed, so a concurrent run never reads half a file).
    pub fn store(&self, key: &DocumentKey, document: &Value) -> Result<PathBuf, CacheError> {
        let path = self.path_of(key);
        let folder = path.parent().unwrap_or(&self.dir).to_path_buf();
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| CacheError::Io {
                action,
                path,
                source,
            }
        };
        std::fs::create_dir_all(&folder).map_err(io("create", &folder))?;
        let stored = Stored {
            key: key.clone(),
            fetched_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
            document: document.clone(),
        };
        let text = serde_json::to_vec(&stored).expect("a JSON value serializes");
        let mut aside = tempfile::NamedTempFile::new_in(&folder).map_err(io("create", &folder))?;
        std::io::Write::write_all(&mut aside, &text).map_err(io("write", &path))?;
        aside
            .persist(&path)
            .map_err(|e| io("write", &path)(e.error))?;
        Ok(path)
    }

    /// The documents cached for `version`, sorted by key.
    pub fn list(&self, version: &str) -> Result<Vec<CachedDocument>, CacheError> {
        let version = version.strip_prefix('v').unwrap_or(version);
        let folder = self.dir.join(safe(version));
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CacheError::Io {
                    action: "read",
                    path: folder,
                    source,
                })
            }
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let stored = read_stored(&path)?;
            found.push(CachedDocument {
                key: stored.key,
                path,
                fetched_at: stored.fetched_at,
            });
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// The versions that have cached documents, sorted as text.
    pub fn versions(&self) -> Result<Vec<String>, CacheError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CacheError::Io {
                    action: "read",
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        let mut versions: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect();
        versions.sort();
        Ok(versions)
    }

    /// Every cached document of `version`, the plainest first.
    pub fn load_all(&self, version: &str) -> Result<Vec<(DocumentKey, ApiDocument)>, CacheError> {
        let mut listed = self.list(version)?;
        listed.sort_by_key(|c| (c.key.multitenant, c.key.plugins.len(), c.key.clone()));
        let mut documents = Vec::new();
        for cached in listed {
            let stored = read_stored(&cached.path)?;
            let document = ApiDocument::from_value(&stored.document).map_err(|source| {
                CacheError::Document {
                    path: cached.path.clone(),
                    source,
                }
            })?;
            documents.push((cached.key, document));
        }
        Ok(documents)
    }

    /// The one cached document of `version` that fits, for commands that
    /// name only a version (`api diff 0.12.8 1.7.0`): an exact `wanted`
    /// key if given, else the plainest one (single-tenant before
    /// multitenant, fewest plugins, then key order).
    pub fn load_version(
        &self,
        version: &str,
        wanted: Option<&DocumentKey>,
    ) -> Result<Option<(DocumentKey, ApiDocument)>, CacheError> {
        let listed = self.list(version)?;
        let chosen = match wanted {
            Some(key) => listed.into_iter().find(|c| &c.key == key),
            None => listed
                .into_iter()
                .min_by_key(|c| (c.key.multitenant, c.key.plugins.len(), c.key.clone())),
        };
        let Some(chosen) = chosen else {
            return Ok(None);
        };
        let stored = read_stored(&chosen.path)?;
        let document =
            ApiDocument::from_value(&stored.document).map_err(|source| CacheError::Document {
                path: chosen.path.clone(),
                source,
            })?;
        Ok(Some((chosen.key, document)))
    }
}

/// Why [`DocumentCache::get_or_fetch`] has no document.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

fn read_stored(path: &Path) -> Result<Stored, CacheError> {
    let bytes = std::fs::read(path).map_err(|source| CacheError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| CacheError::Corrupt {
        path: path.to_path_buf(),
        source,
    })
}

/// A name part made of safe characters only.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '+' => c,
            _ => '_',
        })
        .collect()
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

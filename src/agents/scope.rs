//! What lives around the agents, for a case or for a whole run: the
//! resources providers make and share within it (a case's network, which
//! every container of the case joins; a run's network, where a ledger
//! shared by every case runs), and where their notices go.
//!
//! The runner creates a scope and closes it when the case (or run) ends,
//! after its agents and services have stopped; it never looks inside. A
//! provider keeps what it shares in the scope under its own type, so a new
//! provider needs no change here.

use super::notice::Notices;
use async_trait::async_trait;
use std::any::{Any, TypeId};
use std::future::Future;
use std::sync::Arc;

/// Which case a scope is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseId {
    /// `issue-credential-v2/seed-flow::process::1.3.6`.
    pub name: String,
    /// `issue-credential-v2/seed-flow`.
    pub scenario: String,
}

/// Something a scope holds until it closes.
#[async_trait]
pub trait Resource: Any + Send + Sync {
    /// Removes it; called once, when its scope closes.
    async fn close(&self);
}

/// A resource, by its type: as itself (to hand out) and as a resource (to close).
type Held = (TypeId, Arc<dyn Any + Send + Sync>, Arc<dyn Resource>);

/// The resources of one scope, each type at most once, closed in the
/// reverse order of their making.
#[derive(Default)]
struct Resources {
    held: tokio::sync::Mutex<Vec<Held>>,
}

impl Resources {
    async fn get_or_try_make<R, E, F>(&self, make: impl FnOnce() -> F) -> Result<Arc<R>, E>
    where
        R: Resource,
        F: Future<Output = Result<R, E>>,
    {
        // Held across the making: a second caller waits and finds it.
        let mut held = self.held.lock().await;
        if let Some((_, any, _)) = held.iter().find(|(id, _, _)| *id == TypeId::of::<R>()) {
            return Ok(any.clone().downcast::<R>().expect("stored by its type"));
        }
        let made = Arc::new(make().await?);
        held.push((TypeId::of::<R>(), made.clone(), made.clone()));
        Ok(made)
    }

    async fn get<R: Resource>(&self) -> Option<Arc<R>> {
        let held = self.held.lock().await;
        held.iter()
            .find(|(id, _, _)| *id == TypeId::of::<R>())
            .map(|(_, any, _)| any.clone().downcast::<R>().expect("stored by its type"))
    }

    async fn close(&self) {
        let held = std::mem::take(&mut *self.held.lock().await);
        for (_, _, resource) in held.into_iter().rev() {
            resource.close().await;
        }
    }
}

/// What the cases of one run share.
#[derive(Default)]
pub struct RunScope {
    notices: Notices,
    resources: Resources,
}

impl RunScope {
    pub fn new(notices: Notices) -> Arc<RunScope> {
        Arc::new(RunScope {
            notices,
            resources: Resources::default(),
        })
    }

    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    /// The run's resource of type `R`, made by `make` if there is none yet.
    pub async fn get_or_try_make<R, E, F>(&self, make: impl FnOnce() -> F) -> Result<Arc<R>, E>
    where
        R: Resource,
        F: Future<Output = Result<R, E>>,
    {
        self.resources.get_or_try_make(make).await
    }

    pub async fn get<R: Resource>(&self) -> Option<Arc<R>> {
        self.resources.get().await
    }

    /// Removes what the run made; at the end of the run.
    pub async fn close(&self) {
        self.resources.close().await;
    }
}

/// What the agents and services of one case share.
pub struct Scope {
    pub case: CaseId,
    pub run: Arc<RunScope>,
    resources: Resources,
}

impl Scope {
    pub fn new(case: CaseId, run: Arc<RunScope>) -> Scope {
        Scope {
            case,
            run,
            resources: Resources::default(),
        }
    }

    /// A case named `name` in a run of its own, its notices on stderr: for
    /// starting agents outside a session (tests, tools).
    pub fn standalone(name: &str) -> Scope {
        Scope::new(
            CaseId {
                name: name.to_owned(),
                scenario: name.split("::").next().unwrap_or(name).to_owned(),
            },
            RunScope::new(Notices::default()),
        )
    }

    pub fn notices(&self) -> &Notices {
        &self.run.notices
    }

    /// The case's resource of type `R`, made by `make` if there is none yet.
    pub async fn get_or_try_make<R, E, F>(&self, make: impl FnOnce() -> F) -> Result<Arc<R>, E>
    where
        R: Resource,
        F: Future<Output = Result<R, E>>,
    {
        self.resources.get_or_try_make(make).await
    }

    pub async fn get<R: Resource>(&self) -> Option<Arc<R>> {
        self.resources.get().await
    }

    /// Removes what the case made, once its agents and services are gone.
    pub async fn close(&self) {
        self.resources.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Made(&'static str, Arc<Mutex<Vec<&'static str>>>);

    #[async_trait]
    impl Resource for Made {
        async fn close(&self) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    struct Other(Made);

    #[async_trait]
    impl Resource for Other {
        async fn close(&self) {
            self.0.close().await;
        }
    }

    #[tokio::test]
    async fn a_resource_is_made_once_per_scope_and_closed_last_made_first() {
        let closed = Arc::new(Mutex::new(Vec::new()));
        let scope = Scope::new(
            CaseId {
                name: "s::process::1.3.6".into(),
                scenario: "s".into(),
            },
            RunScope::new(Notices::silent()),
        );
        let first = scope
            .get_or_try_make(|| async { Ok::<_, ()>(Made("network", closed.clone())) })
            .await
            .unwrap();
        let again = scope
            .get_or_try_make(|| async { Ok::<_, ()>(Made("a second one", closed.clone())) })
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        scope
            .get_or_try_make(|| async { Ok::<_, ()>(Other(Made("other", closed.clone()))) })
            .await
            .unwrap();
        let failed = scope
            .run
            .get_or_try_make(|| async { Err::<Made, _>("no engine") })
            .await;
        assert_eq!(failed.err(), Some("no engine"));
        assert!(scope.run.get::<Made>().await.is_none());
        scope.close().await;
        assert_eq!(*closed.lock().unwrap(), ["other", "network"]);
    }
}

//! `restart: ROLE` and `stop: ROLE`: an agent stopped in the middle of a
//! case, and brought back with its wallet.

// A failure ends its case, once: passing it by value costs nothing worth boxing.
#![allow(clippy::result_large_err)]

use super::fault::Fault;
use super::runner::Runner;
use crate::admin::AdminClient;
use crate::agents::Agent;
use crate::scenario::model::Step;

impl Runner<'_> {
    /// Stops the step's agent and starts it again; its event stream picks
    /// up where it was.
    pub(super) async fn restart(&mut self, step: &Step) -> Result<(), Fault> {
        let role = step.agent.clone().expect("checked at load");
        let agent = self.agent_mut(&role);
        let halted = agent.handle.halt().await;
        let admin = match halted {
            Ok(()) => agent.handle.resume().await,
            Err(e) => Err(e),
        }
        .map_err(|e| Fault::new(format!("`{role}` did not restart")).note(format!("{e:#}")))?;
        agent.admin = admin.clone();
        self.clients.insert(role.clone(), AdminClient::new(&admin));
        if let Some(stream) = self.streams.get_mut(&role) {
            stream.reconnect(&admin).await.map_err(|e| {
                Fault::new(format!("cannot subscribe again to the events of `{role}`"))
                    .note(format!("{e:#}"))
            })?;
        }
        Ok(())
    }

    /// Stops the step's agent, keeping its wallet.
    pub(super) async fn halt(&mut self, step: &Step) -> Result<(), Fault> {
        let role = step.agent.clone().expect("checked at load");
        self.agent_mut(&role)
            .handle
            .halt()
            .await
            .map_err(|e| Fault::new(format!("`{role}` did not stop")).note(format!("{e:#}")))
    }

    /// Why `role`'s agent is gone, if it is. Asked after a request or the
    /// event stream failed: a killed process closes its sockets a moment
    /// before it can be seen to have exited (longer on a loaded machine:
    /// 300 ms was seen to fall short), so this looks for up to 0.6 s.
    pub(super) async fn gone(&self, role: &str) -> Option<String> {
        let agent = self.agents.iter().find(|a| a.role == role)?;
        for _ in 0..20 {
            if let Some(why) = agent.handle.gone().await {
                return Some(why);
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        None
    }

    fn agent_mut(&mut self, role: &str) -> &mut Agent {
        self.agents
            .iter_mut()
            .find(|a| a.role == role)
            .expect("every role has an agent")
    }
}

//! The scenario file format: its model, loading and checking. Nothing here
//! talks to an agent.

mod expect;
pub mod load;
pub mod model;
pub mod query;
pub mod raw;
pub mod template;
mod variables;
pub mod yaml;

pub use load::{discover, load_all, Found};
pub use model::Scenario;

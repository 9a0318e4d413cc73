//! The scenario file format: its model, loading and checking. Nothing here
//! talks to an agent.

mod check;
pub mod discover;
pub mod duration;
pub mod load;
pub mod model;
pub mod query;
pub mod raw;
pub mod template;
pub mod topics;
pub mod yaml;

pub use discover::{discover, Found};
pub use load::load_all;
pub use model::Scenario;

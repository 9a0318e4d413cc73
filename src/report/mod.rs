//! How results look: to a person at a terminal ([`console`]) and to CI.

pub mod console;

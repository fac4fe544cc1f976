pub mod backend;
pub mod data;

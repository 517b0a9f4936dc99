//! The bench's errors, and its flags from the command line's definition.

pub use gatehouse::cli::bench::{BenchArgs, Workload};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("{workload}: unexpected answers {errors:?}")]
    Unexpected {
        workload: &'static str,
        errors: Vec<(String, usize)>,
    },
}

//! Why an evaluation failed, with the offset of the sub-expression that failed.

/// An evaluation error; `position` is the byte offset of the failing sub-expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// An operand or function input held several items where one was required.
    #[error("at {position}: expected at most one item, got {count}")]
    NotSingleton {
        /// Offset of the sub-expression.
        position: usize,
        /// How many items it gave.
        count: usize,
    },
    /// Operand or argument types do not fit the operator or function.
    #[error("at {position}: {message}")]
    Type {
        /// Offset of the sub-expression.
        position: usize,
        /// What did not fit.
        message: String,
    },
    /// A name, function or variable that does not exist.
    #[error("at {position}: {message}")]
    Semantic {
        /// Offset of the sub-expression.
        position: usize,
        /// What is unknown.
        message: String,
    },
    /// A regular expression that does not compile.
    #[error("at {position}: invalid regular expression: {message}")]
    Regex {
        /// Offset of the function call.
        position: usize,
        /// The regex crate's message.
        message: String,
    },
    /// Nesting or repetition beyond the evaluator's limits.
    #[error("at {position}: evaluation limit exceeded")]
    Limit {
        /// Offset of the sub-expression.
        position: usize,
    },
}

impl EvalError {
    /// The byte offset of the failing sub-expression.
    pub fn position(&self) -> usize {
        match self {
            EvalError::NotSingleton { position, .. }
            | EvalError::Type { position, .. }
            | EvalError::Semantic { position, .. }
            | EvalError::Regex { position, .. }
            | EvalError::Limit { position } => *position,
        }
    }

    pub(crate) fn type_error(position: usize, message: impl Into<String>) -> EvalError {
        EvalError::Type {
            position,
            message: message.into(),
        }
    }

    pub(crate) fn semantic(position: usize, message: impl Into<String>) -> EvalError {
        EvalError::Semantic {
            position,
            message: message.into(),
        }
    }
}

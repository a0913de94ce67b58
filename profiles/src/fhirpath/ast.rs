//! The parsed form of an expression: what the parser builds and the evaluator walks. Every node
//! keeps the byte offset it starts at, so evaluation errors can point at their sub-expression.

use super::value::Literal;

/// An expression node and where it starts in the text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    /// What the node does.
    pub(crate) kind: ExprKind,
    /// Byte offset of its first token.
    pub(crate) position: usize,
}

/// The kinds of expression node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    /// `{}`.
    Empty,
    /// A literal FHIRPath refuses only when evaluated (a time with a zone): the message.
    Invalid(String),
    /// A literal value.
    Literal(Literal),
    /// An identifier opening a path: a type filter on `$this` when it names a type the focus
    /// is, else `$this`'s children of that name.
    Identifier(String),
    /// `$this`.
    This,
    /// `$index`.
    Index,
    /// `$total`.
    Total,
    /// `%name`.
    Variable(String),
    /// `base.name`.
    Member(Box<Expr>, String),
    /// `base.name(args)`, or `name(args)` on `$this` when `base` is `None`.
    Call {
        /// The input expression (none: `$this`).
        base: Option<Box<Expr>>,
        /// The function name.
        name: String,
        /// The argument expressions, unevaluated (some functions evaluate them per item).
        args: Vec<Expr>,
    },
    /// `base[index]`.
    Indexer(Box<Expr>, Box<Expr>),
    /// Unary `-`.
    Negate(Box<Expr>),
    /// A binary operator.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `base is T`.
    Is(Box<Expr>, TypeSpecifier),
    /// `base as T`.
    As(Box<Expr>, TypeSpecifier),
}

/// The binary operators, by FHIRPath name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Multiply,
    Divide,
    Div,
    Mod,
    Add,
    Subtract,
    Concatenate,
    Union,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Equal,
    Equivalent,
    NotEqual,
    NotEquivalent,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

/// A type name as written (`Quantity`, `FHIR.string`, `System.Integer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeSpecifier {
    /// `FHIR` or `System` when qualified.
    pub(crate) namespace: Option<String>,
    /// The type name.
    pub(crate) name: String,
}

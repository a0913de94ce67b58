//! The parsed form of an expression: what the parser builds and the evaluator walks.

/// An expression node. Every node is evaluated against a focus collection (the resource at the
/// top, one item inside `where(…)`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// `{}`.
    Empty,
    /// `true` / `false`.
    Bool(bool),
    /// A string literal.
    Str(Box<str>),
    /// A number literal.
    Number(f64),
    /// `$this`: the focus.
    This,
    /// `%resource` / `%context` / `%rootResource`: the resource being evaluated.
    Resource,
    /// An identifier opening a path (`Patient` in `Patient.name`, `type` in `where(type='x')`):
    /// a type filter on the focus when it starts upper-case (FHIR element names never do), else
    /// the focus's child of that name.
    Start(Box<str>),
    /// `base.name`: children of that name (choice elements included: `value` finds
    /// `valueQuantity`).
    Child(Box<Expr>, Box<str>),
    /// `base.function(…)`; a function written without a base applies to the focus.
    Call(Box<Expr>, Function),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `a | b | …`: the branches' items, duplicates removed. Kept flat so the long unions of
    /// multi-base parameters (thirty branches) stay shallow.
    Union(Vec<Expr>),
    /// `left = right`, or `left != right` when `negated`.
    Equals {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    /// `and`, `or`, `xor`, `implies`.
    Logic(Logic, Box<Expr>, Box<Expr>),
    /// `base is Type` and `base.is(Type)`.
    Is(Box<Expr>, &'static str),
    /// `base as Type`, `base.as(Type)` and `base.ofType(Type)`: the items of that type.
    As(Box<Expr>, &'static str),
}

/// A boolean operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logic {
    And,
    Or,
    Xor,
    Implies,
}

/// A supported function (type functions are [`Expr::Is`] and [`Expr::As`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Function {
    /// `where(criteria)`.
    Where(Box<Expr>),
    /// `exists()` and `exists(criteria)`.
    Exists(Option<Box<Expr>>),
    /// `empty()`.
    Empty,
    /// `first()`.
    First,
    /// `last()`.
    Last,
    /// `not()`.
    Not,
    /// `extension(url)`: the focus's extensions with that url.
    Extension(Box<str>),
    /// `hasExtension(url)`: whether the focus has such an extension.
    HasExtension(Box<str>),
    /// `resolve()`: stands in for the reference target, carrying only its type (enough for
    /// `resolve() is Patient`); nothing is fetched.
    Resolve,
}

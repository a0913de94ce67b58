//! Precedence-climbing parser from tokens to [`Expr`], following the operator precedence of
//! FHIRPath N1 §"Operator precedence". Operators and functions outside the subset are parsed far
//! enough to be named in the error, never silently mis-read.

use super::ast::{Expr, Function, Logic};
use super::lexer::{tokenize, Token, TokenKind};
use super::types::type_specifier;
use super::FhirPathError;

/// Deepest nesting of parentheses and function arguments accepted, so hostile text cannot
/// exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Most steps (terms, `.name`, calls, operators) one expression may have, checked while
/// parsing so no huge tree is ever built. The longest R4 expression has about 150.
const MAX_NODES: usize = 1024;

/// Deepest tree accepted (`a.b.c` is three deep; a union adds one level however many branches
/// it has). The evaluator recurses once per level, and this keeps it far inside a 2 MiB thread
/// stack even in debug builds. R4 expressions are at most about ten deep.
const MAX_TREE_DEPTH: usize = 128;

/// Parses a whole expression.
pub(crate) fn parse(text: &str) -> Result<Expr, FhirPathError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        end: text.len(),
        depth: 0,
        nodes: 0,
    };
    if tokens.is_empty() {
        return Err(FhirPathError::new(0, "empty expression"));
    }
    let expr = parser.expression(0)?;
    if tree_depth(&expr) > MAX_TREE_DEPTH {
        return Err(FhirPathError::new(
            0,
            format!("nested deeper than {MAX_TREE_DEPTH} steps"),
        ));
    }
    match parser.peek() {
        None => Ok(expr),
        Some(token) => Err(FhirPathError::new(
            token.position,
            format!("unexpected {}", describe(&token.kind)),
        )),
    }
}

/// Depth of the tree, walked with an explicit stack (the tree may be too deep to recurse).
fn tree_depth(root: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root, 1)];
    while let Some((expr, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        let below = depth + 1;
        match expr {
            Expr::Empty
            | Expr::Bool(_)
            | Expr::Str(_)
            | Expr::Number(_)
            | Expr::This
            | Expr::Resource
            | Expr::Start(_) => {}
            Expr::Child(base, _) | Expr::Is(base, _) | Expr::As(base, _) => {
                stack.push((base, below));
            }
            Expr::Call(base, function) => {
                stack.push((base, below));
                if let Function::Where(criteria) | Function::Exists(Some(criteria)) = function {
                    stack.push((criteria, below));
                }
            }
            Expr::Index(left, right)
            | Expr::Equals { left, right, .. }
            | Expr::Logic(_, left, right) => {
                stack.push((left, below));
                stack.push((right, below));
            }
            Expr::Union(branches) => stack.extend(branches.iter().map(|branch| (branch, below))),
        }
    }
    deepest
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Logic(Logic),
    Equals {
        negated: bool,
    },
    Union,
    Is,
    As,
    /// Recognised but outside the subset (`in`, `<`, `+`, …); the text names it in the error.
    Unsupported(&'static str),
}

impl Operator {
    /// Binding strength: higher binds tighter.
    fn precedence(self) -> u8 {
        match self {
            Operator::Logic(Logic::Implies) => 1,
            Operator::Logic(Logic::Or | Logic::Xor) => 2,
            Operator::Logic(Logic::And) => 3,
            Operator::Equals { .. } => 5,
            Operator::Union => 7,
            Operator::Is | Operator::As => 8,
            Operator::Unsupported(_) => 0,
        }
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    end: usize,
    depth: usize,
    nodes: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_kind(&self) -> Option<&TokenKind> {
        self.peek().map(|token| &token.kind)
    }

    /// Offset of the next token, or the end of the text.
    fn position(&self) -> usize {
        self.peek().map_or(self.end, |token| token.position)
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        if token.is_some() {
            self.at += 1;
        }
        token
    }

    fn at_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek_kind(), Some(TokenKind::Symbol(found)) if *found == symbol)
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), FhirPathError> {
        if self.at_symbol(symbol) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{symbol}`")))
        }
    }

    fn unexpected(&self, wanted: &str) -> FhirPathError {
        let found = self
            .peek()
            .map_or_else(|| "end of expression".to_owned(), |t| describe(&t.kind));
        FhirPathError::new(self.position(), format!("expected {wanted}, found {found}"))
    }

    /// Counts one more node against [`MAX_NODES`].
    fn node(&mut self) -> Result<(), FhirPathError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(FhirPathError::new(
                self.position(),
                format!("more than {MAX_NODES} steps"),
            ));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), FhirPathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FhirPathError::new(
                self.position(),
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// `expression` with every operator binding at least `min_precedence`.
    fn expression(&mut self, min_precedence: u8) -> Result<Expr, FhirPathError> {
        self.enter()?;
        let mut left = self.postfix()?;
        while let Some(operator) = self.peek_operator()? {
            if let Operator::Unsupported(name) = operator {
                return Err(FhirPathError::new(
                    self.position(),
                    format!("operator `{name}` is not supported"),
                ));
            }
            let precedence = operator.precedence();
            if precedence < min_precedence {
                break;
            }
            self.node()?;
            self.at += 1;
            left = match operator {
                Operator::Is => Expr::Is(Box::new(left), self.type_specifier()?),
                Operator::As => Expr::As(Box::new(left), self.type_specifier()?),
                Operator::Union => {
                    let right = self.expression(precedence + 1)?;
                    match left {
                        Expr::Union(mut branches) => {
                            branches.push(right);
                            Expr::Union(branches)
                        }
                        single => Expr::Union(vec![single, right]),
                    }
                }
                _ => {
                    let right = Box::new(self.expression(precedence + 1)?);
                    let left = Box::new(left);
                    match operator {
                        Operator::Logic(logic) => Expr::Logic(logic, left, right),
                        _ => Expr::Equals {
                            left,
                            right,
                            negated: operator == Operator::Equals { negated: true },
                        },
                    }
                }
            };
        }
        self.depth -= 1;
        Ok(left)
    }

    /// The operator at the cursor; `None` where an expression may end.
    fn peek_operator(&self) -> Result<Option<Operator>, FhirPathError> {
        let operator = match self.peek_kind() {
            None | Some(TokenKind::Symbol(")" | "]" | "," | "}")) => return Ok(None),
            Some(TokenKind::Symbol("|")) => Operator::Union,
            Some(TokenKind::Symbol("=")) => Operator::Equals { negated: false },
            Some(TokenKind::Symbol("!=")) => Operator::Equals { negated: true },
            Some(TokenKind::Symbol(
                symbol @ ("~" | "!~" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "&"),
            )) => Operator::Unsupported(symbol),
            Some(TokenKind::Identifier {
                name,
                delimited: false,
            }) => match name.as_str() {
                "and" => Operator::Logic(Logic::And),
                "or" => Operator::Logic(Logic::Or),
                "xor" => Operator::Logic(Logic::Xor),
                "implies" => Operator::Logic(Logic::Implies),
                "is" => Operator::Is,
                "as" => Operator::As,
                "in" => Operator::Unsupported("in"),
                "contains" => Operator::Unsupported("contains"),
                "div" => Operator::Unsupported("div"),
                "mod" => Operator::Unsupported("mod"),
                _ => return Err(self.unexpected("an operator")),
            },
            Some(TokenKind::Str(_)) => {
                return Err(FhirPathError::new(
                    self.position(),
                    "quantity literals are not supported",
                ))
            }
            Some(_) => return Err(self.unexpected("an operator")),
        };
        Ok(Some(operator))
    }

    /// A term followed by `.child`, `.function(…)` and `[index]`.
    fn postfix(&mut self) -> Result<Expr, FhirPathError> {
        let mut expr = self.term()?;
        loop {
            if self.at_symbol(".") || self.at_symbol("[") {
                self.node()?;
            }
            if self.at_symbol(".") {
                self.at += 1;
                let (name, position) = self.identifier()?;
                expr = if self.at_symbol("(") {
                    self.call(expr, &name, position)?
                } else {
                    Expr::Child(Box::new(expr), name.into())
                };
            } else if self.at_symbol("[") {
                self.at += 1;
                let index = self.expression(0)?;
                self.expect_symbol("]")?;
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    fn identifier(&mut self) -> Result<(String, usize), FhirPathError> {
        let position = self.position();
        match self.peek_kind() {
            Some(TokenKind::Identifier { name, .. }) => {
                let name = name.clone();
                self.at += 1;
                Ok((name, position))
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    fn term(&mut self) -> Result<Expr, FhirPathError> {
        self.node()?;
        let position = self.position();
        let Some(kind) = self.next().map(|token| token.kind.clone()) else {
            return Err(FhirPathError::new(position, "expected an expression"));
        };
        let expr = match &kind {
            TokenKind::Number(text) => {
                let value = text
                    .parse()
                    .map_err(|_| FhirPathError::new(position, "number out of range"))?;
                Expr::Number(value)
            }
            TokenKind::Str(value) => Expr::Str(value.as_str().into()),
            TokenKind::Identifier {
                name,
                delimited: false,
            } if name == "true" || name == "false" => Expr::Bool(name == "true"),
            TokenKind::Identifier { name, .. } => {
                let name = name.clone();
                if self.at_symbol("(") {
                    return self.call(Expr::This, &name, position);
                }
                Expr::Start(name.into())
            }
            TokenKind::Special(name) if name == "this" => Expr::This,
            TokenKind::Special(name) => {
                return Err(FhirPathError::new(
                    position,
                    format!("`${name}` is not supported"),
                ))
            }
            TokenKind::Environment(name)
                if matches!(name.as_str(), "resource" | "context" | "rootResource") =>
            {
                Expr::Resource
            }
            TokenKind::Environment(name) => {
                return Err(FhirPathError::new(
                    position,
                    format!("environment variable `%{name}` is not supported"),
                ))
            }
            TokenKind::Symbol("(") => {
                let inner = self.expression(0)?;
                self.expect_symbol(")")?;
                inner
            }
            TokenKind::Symbol("{") => {
                self.expect_symbol("}")?;
                Expr::Empty
            }
            TokenKind::Symbol(symbol @ ("+" | "-")) => {
                return Err(FhirPathError::new(
                    position,
                    format!("unary `{symbol}` is not supported"),
                ))
            }
            TokenKind::DateTime => {
                return Err(FhirPathError::new(
                    position,
                    "date/time literals are not supported",
                ))
            }
            other => {
                let found = describe(other);
                return Err(FhirPathError::new(
                    position,
                    format!("expected an expression, found {found}"),
                ));
            }
        };
        Ok(expr)
    }

    /// `name(…)` applied to `base`; the cursor is on `(`.
    fn call(&mut self, base: Expr, name: &str, position: usize) -> Result<Expr, FhirPathError> {
        self.expect_symbol("(")?;
        self.enter()?;
        if matches!(name, "as" | "is" | "ofType") {
            let type_name = self.type_specifier()?;
            self.expect_symbol(")")?;
            self.depth -= 1;
            let base = Box::new(base);
            return Ok(match name {
                "is" => Expr::Is(base, type_name),
                _ => Expr::As(base, type_name),
            });
        }
        let mut arguments = Vec::new();
        if !self.at_symbol(")") {
            loop {
                arguments.push(self.expression(0)?);
                if !self.at_symbol(",") {
                    break;
                }
                self.at += 1;
            }
        }
        self.expect_symbol(")")?;
        self.depth -= 1;
        let arity_error =
            |wanted: &str| FhirPathError::new(position, format!("`{name}()` takes {wanted}"));
        let mut arguments = arguments.into_iter();
        let (first, extra) = (arguments.next(), arguments.next());
        if extra.is_some() {
            return Err(arity_error("at most one argument"));
        }
        let function = match (name, first) {
            ("where", Some(criteria)) => Function::Where(Box::new(criteria)),
            ("where", None) => return Err(arity_error("one argument")),
            ("exists", criteria) => Function::Exists(criteria.map(Box::new)),
            ("extension" | "hasExtension", Some(Expr::Str(url))) => {
                if name == "extension" {
                    Function::Extension(url)
                } else {
                    Function::HasExtension(url)
                }
            }
            ("extension" | "hasExtension", _) => {
                return Err(arity_error("one string literal (the url)"))
            }
            ("empty" | "first" | "last" | "not" | "resolve", Some(_)) => {
                return Err(arity_error("no arguments"))
            }
            ("empty", None) => Function::Empty,
            ("first", None) => Function::First,
            ("last", None) => Function::Last,
            ("not", None) => Function::Not,
            ("resolve", None) => Function::Resolve,
            _ => {
                return Err(FhirPathError::new(
                    position,
                    format!("function `{name}()` is not supported"),
                ))
            }
        };
        Ok(Expr::Call(Box::new(base), function))
    }

    /// A type name, optionally qualified `FHIR.` or `System.`.
    fn type_specifier(&mut self) -> Result<&'static str, FhirPathError> {
        let (mut name, mut position) = self.identifier()?;
        if matches!(name.as_str(), "FHIR" | "System") && self.at_symbol(".") {
            self.at += 1;
            (name, position) = self.identifier()?;
        }
        type_specifier(&name)
            .ok_or_else(|| FhirPathError::new(position, format!("unknown type `{name}`")))
    }
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Identifier { name, .. } => format!("`{name}`"),
        TokenKind::Str(value) => format!("string '{value}'"),
        TokenKind::Number(text) => format!("number {text}"),
        TokenKind::Special(name) => format!("`${name}`"),
        TokenKind::Environment(name) => format!("`%{name}`"),
        TokenKind::Symbol(symbol) => format!("`{symbol}`"),
        TokenKind::DateTime => "a date/time literal".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(name: &str) -> Box<Expr> {
        Box::new(Expr::Start(name.into()))
    }

    #[test]
    fn is_binds_tighter_than_union_and_union_tighter_than_equals() {
        let parsed = parse("a | b as Quantity | d = c").expect("parses");
        let expected = Expr::Equals {
            left: Box::new(Expr::Union(vec![
                Expr::Start("a".into()),
                Expr::As(start("b"), "Quantity"),
                Expr::Start("d".into()),
            ])),
            right: start("c"),
            negated: false,
        };
        assert_eq!(parsed, expected);
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let parsed = parse("a or b and c").expect("parses");
        let expected = Expr::Logic(
            Logic::Or,
            start("a"),
            Box::new(Expr::Logic(Logic::And, start("b"), start("c"))),
        );
        assert_eq!(parsed, expected);
    }

    #[test]
    fn functions_without_base_apply_to_the_focus() {
        let parsed = parse("where(resolve() is Patient)").expect("parses");
        let criteria = Expr::Is(
            Box::new(Expr::Call(Box::new(Expr::This), Function::Resolve)),
            "Patient",
        );
        assert_eq!(
            parsed,
            Expr::Call(Box::new(Expr::This), Function::Where(Box::new(criteria)))
        );
    }

    #[test]
    fn qualified_type_names_are_accepted() {
        assert_eq!(
            parse("value.as(System.DateTime)").expect("parses"),
            Expr::As(start("value"), "dateTime")
        );
    }

    #[test]
    fn unsupported_syntax_is_reported_where_it_starts() {
        let cases = [
            ("Patient.name.count()", 13, "count"),
            ("a < b", 2, "`<`"),
            ("a in b", 2, "`in`"),
            ("@2020 = a", 0, "date/time"),
            ("value as Quantityy", 9, "unknown type"),
            ("%ucum", 0, "%ucum"),
            ("a.where()", 2, "one argument"),
            ("(a", 2, "`)`"),
            ("a b", 2, "operator"),
            ("", 0, "empty"),
            ("a.", 2, "a name"),
        ];
        for (text, position, needle) in cases {
            let error = parse(text).expect_err(text);
            assert_eq!(error.position, position, "{text}: {error}");
            assert!(error.message.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn hostile_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&text).is_err());
        let chain = format!("a{}", ".a".repeat(100_000));
        assert!(parse(&chain)
            .expect_err("too long")
            .message
            .contains("steps"));
        let deep = format!("a{}", ".a".repeat(MAX_TREE_DEPTH));
        assert!(parse(&deep)
            .expect_err("too deep")
            .message
            .contains("deeper"));
        let union = format!("a{}", " | a".repeat(100_000));
        assert!(parse(&union).is_err());
    }

    #[test]
    fn the_longest_accepted_chain_evaluates_on_a_test_thread_stack() {
        let chain = format!("a{}", ".a".repeat(MAX_TREE_DEPTH - 1));
        let expression = super::super::Expression::parse(&chain).expect("at the limit");
        assert!(expression.evaluate(&serde_json::json!({"a": 1})).is_empty());
    }
}

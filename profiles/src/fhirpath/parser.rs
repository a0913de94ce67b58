//! FHIRPath grammar (N1 §"Grammar"): a precedence-climbing parser over the lexer's tokens,
//! with limits on text length and nesting so hostile input cannot exhaust the stack.

use rust_decimal::Decimal;

use super::ast::{BinaryOp, Expr, ExprKind, TypeSpecifier};
use super::functions::check_arity;
use super::lexer::{tokenize, Token, TokenKind};
use super::navigation::element_def;
use super::quantity::{is_calendar_word, Quantity};
use super::temporal::{DateTimeValue, TimeValue};
use super::types::model_type;
use super::value::FhirPathValue;
use super::FhirPathError;

/// Longest expression text accepted, in bytes.
pub(crate) const MAX_LENGTH: usize = 16 * 1024;
/// Most tokens accepted.
const MAX_TOKENS: usize = 4096;
/// Deepest nesting of sub-expressions accepted (a chain of `|` counts once).
pub(crate) const MAX_DEPTH: usize = 96;

/// Parses a whole expression.
pub(crate) fn parse(text: &str) -> Result<Expr, FhirPathError> {
    if text.len() > MAX_LENGTH {
        return Err(FhirPathError::new(MAX_LENGTH, "expression is too long"));
    }
    let tokens = tokenize(text)?;
    if let Some(token) = tokens.get(MAX_TOKENS) {
        return Err(FhirPathError::new(
            token.position,
            "expression has too many tokens",
        ));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
        end: text.len(),
    };
    let expr = parser.expression(0)?;
    check_depth(&expr)?;
    match parser.peek() {
        None => Ok(expr),
        Some(token) => Err(FhirPathError::new(
            token.position,
            "unexpected token after the expression",
        )),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    end: usize,
}

/// Binding powers of the binary operators (higher binds tighter), N1 §"Operator precedence".
fn binary_operator(kind: &TokenKind) -> Option<(BinaryOp, u8)> {
    Some(match kind {
        TokenKind::Symbol(symbol) => match *symbol {
            "*" => (BinaryOp::Multiply, 10),
            "/" => (BinaryOp::Divide, 10),
            "+" => (BinaryOp::Add, 9),
            "-" => (BinaryOp::Subtract, 9),
            "&" => (BinaryOp::Concatenate, 9),
            "|" => (BinaryOp::Union, 7),
            "<" => (BinaryOp::Less, 6),
            ">" => (BinaryOp::Greater, 6),
            "<=" => (BinaryOp::LessOrEqual, 6),
            ">=" => (BinaryOp::GreaterOrEqual, 6),
            "=" => (BinaryOp::Equal, 5),
            "~" => (BinaryOp::Equivalent, 5),
            "!=" => (BinaryOp::NotEqual, 5),
            "!~" => (BinaryOp::NotEquivalent, 5),
            _ => return None,
        },
        TokenKind::Identifier {
            name,
            delimited: false,
        } => match name.as_str() {
            "div" => (BinaryOp::Div, 10),
            "mod" => (BinaryOp::Mod, 10),
            "in" => (BinaryOp::In, 4),
            "contains" => (BinaryOp::Contains, 4),
            "and" => (BinaryOp::And, 3),
            "or" => (BinaryOp::Or, 2),
            "xor" => (BinaryOp::Xor, 2),
            "implies" => (BinaryOp::Implies, 1),
            _ => return None,
        },
        _ => return None,
    })
}

/// Binding power of `is` / `as`.
const TYPE_OPERATOR: u8 = 8;
/// Binding power of unary `+` / `-`.
const POLARITY: u8 = 11;

fn is_word(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token { kind: TokenKind::Identifier { name, delimited: false }, .. }) if name == word)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.at + offset)
    }

    fn position(&self) -> usize {
        self.peek().map_or(self.end, |token| token.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        if token.is_some() {
            self.at += 1;
        }
        token
    }

    fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Symbol(s), .. }) if *s == symbol)
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), FhirPathError> {
        if self.is_symbol(symbol) {
            self.at += 1;
            Ok(())
        } else {
            Err(FhirPathError::new(
                self.position(),
                format!("expected `{symbol}`"),
            ))
        }
    }

    fn enter(&mut self) -> Result<(), FhirPathError> {
        self.depth += 1;
        // Each tree level may take a few nested calls (a parenthesis, an operand); the tree
        // itself is checked against MAX_DEPTH afterwards.
        if self.depth > 3 * MAX_DEPTH {
            return Err(FhirPathError::new(
                self.position(),
                "expression is nested too deeply",
            ));
        }
        Ok(())
    }

    /// An expression whose binary operators bind tighter than `min_power`.
    fn expression(&mut self, min_power: u8) -> Result<Expr, FhirPathError> {
        self.enter()?;
        let result = self.expression_inner(min_power);
        self.depth -= 1;
        result
    }

    fn expression_inner(&mut self, min_power: u8) -> Result<Expr, FhirPathError> {
        let mut left = self.unary()?;
        while let Some(token) = self.peek() {
            let position = token.position;
            if is_word(Some(token), "is") || is_word(Some(token), "as") {
                if TYPE_OPERATOR <= min_power {
                    break;
                }
                let is = is_word(Some(token), "is");
                self.at += 1;
                let specifier = self.type_specifier()?;
                let base = Box::new(left);
                left = Expr {
                    kind: if is {
                        ExprKind::Is(base, specifier)
                    } else {
                        ExprKind::As(base, specifier)
                    },
                    position,
                };
                continue;
            }
            let Some((op, power)) = binary_operator(&token.kind) else {
                break;
            };
            if power <= min_power {
                break;
            }
            self.at += 1;
            let right = self.expression(power)?;
            let start = left.position;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                position: start.min(position),
            };
        }
        Ok(left)
    }

    /// Unary polarity, then a term with its invocations and indexers.
    fn unary(&mut self) -> Result<Expr, FhirPathError> {
        let position = self.position();
        if self.is_symbol("-") || self.is_symbol("+") {
            let negate = self.is_symbol("-");
            self.at += 1;
            let operand = self.expression(POLARITY)?;
            if !negate {
                return Ok(operand);
            }
            // Fold `-5` and `-1.5` into their literals.
            let folded = match &operand.kind {
                ExprKind::Literal(FhirPathValue::Integer(value)) => {
                    value.checked_neg().map(FhirPathValue::Integer)
                }
                ExprKind::Literal(FhirPathValue::Decimal(value)) => {
                    Some(FhirPathValue::Decimal(-*value))
                }
                ExprKind::Literal(FhirPathValue::Quantity(quantity)) => {
                    Some(FhirPathValue::Quantity(Quantity {
                        value: -quantity.value,
                        unit: quantity.unit.clone(),
                    }))
                }
                _ => None,
            };
            let kind = match folded {
                Some(literal) => ExprKind::Literal(literal),
                None => ExprKind::Negate(Box::new(operand)),
            };
            return Ok(Expr { kind, position });
        }
        let mut expr = self.term()?;
        loop {
            if self.is_symbol(".") {
                self.at += 1;
                let position = self.position();
                let name = self.identifier()?;
                if self.is_symbol("(") {
                    let args = self.arguments(&name, position)?;
                    expr = Expr {
                        kind: ExprKind::Call {
                            base: Some(Box::new(expr)),
                            name,
                            args,
                        },
                        position,
                    };
                } else {
                    expr = Expr {
                        kind: ExprKind::Member(Box::new(expr), name),
                        position,
                    };
                }
            } else if self.is_symbol("[") {
                let position = self.position();
                self.at += 1;
                self.enter()?;
                let index = self.expression(0);
                self.depth -= 1;
                let index = index?;
                self.expect_symbol("]")?;
                expr = Expr {
                    kind: ExprKind::Indexer(Box::new(expr), Box::new(index)),
                    position,
                };
            } else {
                break;
            }
        }
        Ok(expr)
    }

    fn identifier(&mut self) -> Result<String, FhirPathError> {
        let position = self.position();
        match self.next() {
            Some(Token {
                kind: TokenKind::Identifier { name, .. },
                ..
            }) => Ok(name),
            _ => Err(FhirPathError::new(position, "expected a name")),
        }
    }

    fn type_specifier(&mut self) -> Result<TypeSpecifier, FhirPathError> {
        let first = self.identifier()?;
        if self.is_symbol(".")
            && matches!(
                self.peek_at(1),
                Some(Token {
                    kind: TokenKind::Identifier { .. },
                    ..
                })
            )
            && matches!(first.as_str(), "FHIR" | "System")
        {
            self.at += 1;
            let name = self.identifier()?;
            return Ok(TypeSpecifier {
                namespace: Some(first),
                name,
            });
        }
        Ok(TypeSpecifier {
            namespace: None,
            name: first,
        })
    }

    fn arguments(&mut self, name: &str, position: usize) -> Result<Vec<Expr>, FhirPathError> {
        self.expect_symbol("(")?;
        let mut args = Vec::new();
        if !self.is_symbol(")") {
            loop {
                args.push(self.expression(0)?);
                if self.is_symbol(",") {
                    self.at += 1;
                } else {
                    break;
                }
            }
        }
        self.expect_symbol(")")?;
        check_arity(name, args.len()).map_err(|message| FhirPathError::new(position, message))?;
        Ok(args)
    }

    fn term(&mut self) -> Result<Expr, FhirPathError> {
        let position = self.position();
        let Some(token) = self.next() else {
            return Err(FhirPathError::new(position, "expected an expression"));
        };
        let literal = |value: FhirPathValue<'static>| Expr {
            kind: ExprKind::Literal(value),
            position,
        };
        let kind = match token.kind {
            TokenKind::Str(text) => return Ok(literal(FhirPathValue::String(text))),
            TokenKind::Number(text) => return self.number(&text, position),
            TokenKind::DateTime(text) => {
                // A time with a zone lexes and parses, and fails when evaluated (the suite's
                // `@T14:34:28Z` is an execution error).
                let zoned_time = text.strip_prefix('T').is_some_and(|time| {
                    time.split(['Z', '+', '-'])
                        .next()
                        .is_some_and(|clock| clock != time && TimeValue::parse(clock).is_some())
                });
                if !zoned_time {
                    return date_time_literal(&text, position).map(literal);
                }
                ExprKind::Invalid(format!("a time has no zone: `@{text}`"))
            }
            TokenKind::Special(name) => match name.as_str() {
                "this" => ExprKind::This,
                "index" => ExprKind::Index,
                "total" => ExprKind::Total,
                _ => {
                    return Err(FhirPathError::new(
                        position,
                        format!("unknown special variable `${name}`"),
                    ))
                }
            },
            TokenKind::Environment(name) => ExprKind::Variable(name),
            TokenKind::Symbol("(") => {
                let inner = self.expression(0)?;
                self.expect_symbol(")")?;
                return Ok(inner);
            }
            TokenKind::Symbol("{") => {
                self.expect_symbol("}")?;
                ExprKind::Empty
            }
            TokenKind::Identifier { name, delimited } => {
                if !delimited && (name == "true" || name == "false") {
                    return Ok(literal(FhirPathValue::Boolean(name == "true")));
                }
                if self.is_symbol("(") && !delimited {
                    let args = self.arguments(&name, position)?;
                    ExprKind::Call {
                        base: None,
                        name,
                        args,
                    }
                } else {
                    ExprKind::Identifier(name)
                }
            }
            TokenKind::Symbol(symbol) => {
                return Err(FhirPathError::new(
                    position,
                    format!("unexpected `{symbol}`"),
                ))
            }
        };
        Ok(Expr { kind, position })
    }

    /// A number literal, or a quantity when a unit follows (`4 'mg'`, `4 days`).
    fn number(&mut self, text: &str, position: usize) -> Result<Expr, FhirPathError> {
        let value = if text.contains('.') {
            FhirPathValue::Decimal(
                text.parse::<Decimal>()
                    .map_err(|_| FhirPathError::new(position, "decimal out of range"))?,
            )
        } else {
            match text.parse::<i64>() {
                Ok(integer) => FhirPathValue::Integer(integer),
                Err(_) => return Err(FhirPathError::new(position, "integer out of range")),
            }
        };
        let unit = match self.peek() {
            Some(Token {
                kind: TokenKind::Str(unit),
                ..
            }) => Some(unit.clone()),
            Some(Token {
                kind:
                    TokenKind::Identifier {
                        name,
                        delimited: false,
                    },
                ..
            }) if is_calendar_word(name) => Some(name.clone()),
            _ => None,
        };
        let kind = match unit {
            Some(unit) => {
                self.at += 1;
                let amount = match value {
                    FhirPathValue::Integer(integer) => Decimal::from(integer),
                    FhirPathValue::Decimal(decimal) => decimal,
                    _ => Decimal::ZERO,
                };
                ExprKind::Literal(FhirPathValue::Quantity(Quantity {
                    value: amount,
                    unit,
                }))
            }
            None => ExprKind::Literal(value),
        };
        Ok(Expr { kind, position })
    }
}

/// Refuses trees deeper than [`MAX_DEPTH`] and paths stepping into elements their starting
/// type does not have (`Encounter.name`) (left-nested chains of postfix steps and binary
/// operators are built by loops, so the parser's own depth does not bound them). Iterative.
fn check_depth(root: &Expr) -> Result<(), FhirPathError> {
    let mut stack = vec![(root, 0usize)];
    while let Some((expr, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(FhirPathError::new(
                expr.position,
                "expression is nested too deeply",
            ));
        }
        let next = depth + 1;
        match &expr.kind {
            ExprKind::Member(base, name) => {
                match &base.kind {
                    ExprKind::Identifier(type_name) => {
                        check_type_has(type_name, name, expr.position)?
                    }
                    // `(Observation.value as Period).unit`: the cast type must have the element.
                    ExprKind::As(_, specifier)
                        if specifier.namespace.as_deref() != Some("System") =>
                    {
                        check_type_has(&specifier.name, name, expr.position)?;
                    }
                    _ => {}
                }
                stack.push((base, next));
            }
            ExprKind::Negate(base) => stack.push((base, next)),
            ExprKind::Is(base, _) | ExprKind::As(base, _) => stack.push((base, next)),
            ExprKind::Call { base, args, .. } => {
                stack.extend(base.iter().map(|base| (&**base, next)));
                stack.extend(args.iter().map(|arg| (arg, next)));
            }
            ExprKind::Indexer(base, index) => {
                stack.push((base, next));
                stack.push((index, next));
            }
            ExprKind::Binary(op, left, right) => {
                let union_spine = *op == BinaryOp::Union
                    && matches!(left.kind, ExprKind::Binary(BinaryOp::Union, ..));
                stack.push((left, if union_spine { depth } else { next }));
                stack.push((right, next));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `Encounter.name`: when a path starts with a type name, its next step must be an element of
/// that type (a semantic error otherwise, whatever the resource).
fn check_type_has(type_name: &str, name: &str, position: usize) -> Result<(), FhirPathError> {
    let is_type = type_name.starts_with(|c: char| c.is_ascii_uppercase());
    let Some(type_name) = model_type(type_name).filter(|_| is_type) else {
        return Ok(());
    };
    if element_def(type_name, name).is_some() {
        return Ok(());
    }
    Err(FhirPathError::new(
        position,
        format!("`{type_name}` has no element `{name}`"),
    ))
}

/// A `@…` literal: a Time (`@T10:30`), a DateTime (with `T`) or a Date.
fn date_time_literal(text: &str, position: usize) -> Result<FhirPathValue<'static>, FhirPathError> {
    let invalid = || FhirPathError::new(position, format!("invalid date/time literal `@{text}`"));
    if let Some(time) = text.strip_prefix('T') {
        return TimeValue::parse(time)
            .map(FhirPathValue::Time)
            .ok_or_else(invalid);
    }
    let value = DateTimeValue::parse(text).ok_or_else(invalid)?;
    Ok(if text.contains('T') {
        FhirPathValue::DateTime(value)
    } else {
        FhirPathValue::Date(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Binary(op, l, r) => format!("({} {:?} {})", shape(l), op, shape(r)),
            ExprKind::Literal(FhirPathValue::Integer(i)) => i.to_string(),
            ExprKind::Identifier(name) => name.clone(),
            ExprKind::Member(base, name) => format!("{}.{name}", shape(base)),
            ExprKind::Is(base, t) => format!("({} is {})", shape(base), t.name),
            ExprKind::Negate(inner) => format!("-{}", shape(inner)),
            other => format!("{other:?}"),
        }
    }

    fn parsed(text: &str) -> String {
        shape(&parse(text).expect(text))
    }

    #[test]
    fn precedence_follows_the_specification() {
        assert_eq!(parsed("1 + 2 * 3"), "(1 Add (2 Multiply 3))");
        assert_eq!(parsed("1 - 2 - 3"), "((1 Subtract 2) Subtract 3)");
        assert_eq!(
            parsed("a = 1 and b or c implies d"),
            "((((a Equal 1) And b) Or c) Implies d)"
        );
        assert_eq!(parsed("a | b = c"), "((a Union b) Equal c)");
        assert_eq!(parsed("a + b is Integer"), "((a Add b) is Integer)");
        assert_eq!(parsed("-a.b"), "-a.b");
        assert_eq!(
            parsed("a < b = true"),
            "((a Less b) Equal Literal(Boolean(true)))"
        );
        assert_eq!(parsed("a in b and c"), "((a In b) And c)");
    }

    #[test]
    fn errors_carry_byte_positions() {
        assert_eq!(parse("name.").expect_err("dangling dot").position, 5);
        assert_eq!(parse("name + ").expect_err("no operand").position, 7);
        assert_eq!(parse("a b").expect_err("two terms").position, 2);
        assert_eq!(parse("@2014-13").expect_err("bad month").position, 0);
        assert_eq!(parse("x.where()").expect_err("arity").position, 2);
        assert_eq!(parse("x.frobnicate()").expect_err("unknown").position, 2);
    }

    #[test]
    fn literals_are_typed() {
        let literal = |text: &str| match parse(text).expect(text).kind {
            ExprKind::Literal(value) => value,
            other => panic!("{other:?}"),
        };
        assert!(matches!(literal("@2014-01"), FhirPathValue::Date(_)));
        assert!(matches!(
            literal("@2014-01-01T10:00:00.000+09:00"),
            FhirPathValue::DateTime(_)
        ));
        assert!(matches!(literal("@T10:30"), FhirPathValue::Time(_)));
        assert!(matches!(literal("4 days"), FhirPathValue::Quantity(_)));
        assert!(matches!(literal("4.5 'mg'"), FhirPathValue::Quantity(_)));
        assert_eq!(literal("-5"), FhirPathValue::Integer(-5));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(parse(&text).is_err());
        let text = "-".repeat(10_000) + "1";
        assert!(parse(&text).is_err());
        let text = "a".to_owned() + &".b".repeat(2000);
        assert!(parse(&text).is_err());
        let text = "a".to_owned() + &" | b".repeat(500);
        assert!(parse(&text).is_ok());
    }
}

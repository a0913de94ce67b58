//! Parse once, evaluate many: a process-wide cache of compiled expressions by their text.

use std::sync::{Arc, OnceLock};

use moka::sync::Cache;

use super::{Expression, FhirPathError};

/// Most expressions kept.
const CAPACITY: u64 = 10_000;

fn cache() -> &'static Cache<String, Arc<Expression>> {
    static CACHE: OnceLock<Cache<String, Arc<Expression>>> = OnceLock::new();
    CACHE.get_or_init(|| Cache::new(CAPACITY))
}

/// The compiled form of `text`, parsed on first use and shared afterwards (errors are not
/// cached).
pub fn compile_cached(text: &str) -> Result<Arc<Expression>, FhirPathError> {
    if let Some(found) = cache().get(text) {
        return Ok(found);
    }
    let expression = Arc::new(Expression::parse(text)?);
    cache().insert(text.to_owned(), Arc::clone(&expression));
    Ok(expression)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_gives_the_same_compiled_expression() {
        let first = compile_cached("Patient.name.given").expect("parses");
        let second = compile_cached("Patient.name.given").expect("parses");
        assert!(Arc::ptr_eq(&first, &second));
        assert!(compile_cached("Patient.name.").is_err());
    }
}

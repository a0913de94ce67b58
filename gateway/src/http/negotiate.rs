//! Content negotiation and request preferences: `_format`, `Accept`, `Content-Type`,
//! `_pretty` and `Prefer` (R4 http.html §3.1.0.1.6–§3.1.0.1.9).

use crate::fhir::entry::PreferReturn;
use crate::GatewayError;
use tsunagi_profiles::Format;

/// The format named by a `_format` value or a MIME type; `None` if it is neither FHIR format.
pub fn format_of(mime: &str) -> Option<Format> {
    // An unencoded '+' in `_format=application/fhir+json` arrives as a space.
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .replace(' ', "+")
        .to_ascii_lowercase();
    match essence.as_str() {
        "json" | "application/json" | "application/fhir+json" | "application/json+fhir" => {
            Some(Format::Json)
        }
        "xml"
        | "text/xml"
        | "application/xml"
        | "application/fhir+xml"
        | "application/xml+fhir" => Some(Format::Xml),
        _ => None,
    }
}

/// The response format: `_format` wins over `Accept`; JSON when neither says.
pub fn response_format(
    format_param: Option<&str>,
    accept: Option<&str>,
) -> Result<Format, GatewayError> {
    if let Some(requested) = format_param {
        return format_of(requested)
            .ok_or_else(|| GatewayError::NotAcceptable(format!("_format={requested}")));
    }
    let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
        return Ok(Format::Json);
    };
    for item in accept.split(',') {
        let essence = item.split(';').next().unwrap_or("").trim();
        if let Some(version) = fhir_version(item) {
            if !version.starts_with("4.0") {
                continue;
            }
        }
        if let Some(format) = format_of(essence) {
            return Ok(format);
        }
        if matches!(essence, "*/*" | "application/*" | "text/*" | "text/html") {
            return Ok(Format::Json);
        }
    }
    Err(GatewayError::NotAcceptable(accept.to_owned()))
}

fn fhir_version(media_range: &str) -> Option<&str> {
    media_range.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("fhirVersion")).then(|| value.trim())
    })
}

/// The request body's format from `Content-Type`; without one, sniffed from the first byte.
pub fn request_format(content_type: Option<&str>, body: &[u8]) -> Result<Format, GatewayError> {
    match content_type.filter(|value| !value.trim().is_empty()) {
        Some(content_type) => format_of(content_type)
            .ok_or_else(|| GatewayError::UnsupportedMediaType(content_type.to_owned())),
        None => match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
            Some(b'<') => Ok(Format::Xml),
            _ => Ok(Format::Json),
        },
    }
}

/// What `Prefer` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefer {
    /// `return=`.
    pub return_: PreferReturn,
    /// `handling=lenient`: ignore unknown parameters instead of failing.
    pub lenient: bool,
}

/// Parses a `Prefer` header (unknown preferences are ignored, as RFC 7240 asks).
pub fn parse_prefer(header: Option<&str>) -> Prefer {
    let mut prefer = Prefer::default();
    for preference in header.unwrap_or("").split([',', ';']) {
        let Some((name, value)) = preference.split_once('=') else {
            continue;
        };
        match (name.trim(), value.trim().trim_matches('"')) {
            ("return", "minimal") => prefer.return_ = PreferReturn::Minimal,
            ("return", "representation") => prefer.return_ = PreferReturn::Representation,
            ("return", "OperationOutcome") => prefer.return_ = PreferReturn::OperationOutcome,
            ("handling", "lenient") => prefer.lenient = true,
            ("handling", "strict") => prefer.lenient = false,
            _ => {}
        }
    }
    prefer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parameter_wins_over_accept() {
        assert_eq!(
            response_format(Some("xml"), Some("application/fhir+json")).unwrap(),
            Format::Xml
        );
        assert_eq!(
            response_format(Some("application/fhir+json"), None).unwrap(),
            Format::Json
        );
        assert_eq!(
            response_format(Some("application/fhir xml"), None).unwrap(),
            Format::Xml
        );
        assert!(matches!(
            response_format(Some("csv"), None),
            Err(GatewayError::NotAcceptable(_))
        ));
    }

    #[test]
    fn accept_picks_the_first_supported_type() {
        assert_eq!(response_format(None, None).unwrap(), Format::Json);
        assert_eq!(
            response_format(None, Some("text/plain, application/fhir+xml;q=0.9")).unwrap(),
            Format::Xml
        );
        assert_eq!(
            response_format(None, Some("text/html,application/xhtml+xml,*/*;q=0.8")).unwrap(),
            Format::Json
        );
        assert_eq!(
            response_format(
                None,
                Some(
                    "application/fhir+json; fhirVersion=3.0, application/fhir+xml; fhirVersion=4.0"
                )
            )
            .unwrap(),
            Format::Xml
        );
        assert!(response_format(None, Some("image/png")).is_err());
    }

    #[test]
    fn content_type_is_required_to_be_fhir_or_sniffed_when_absent() {
        assert_eq!(
            request_format(Some("application/fhir+json; charset=utf-8"), b"").unwrap(),
            Format::Json
        );
        assert_eq!(request_format(None, b"  <Patient/>").unwrap(), Format::Xml);
        assert!(matches!(
            request_format(Some("text/plain"), b"{}"),
            Err(GatewayError::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn prefer_header_values() {
        assert_eq!(
            parse_prefer(Some("return=minimal")).return_,
            PreferReturn::Minimal
        );
        let prefer = parse_prefer(Some("handling=lenient, return=OperationOutcome"));
        assert!(prefer.lenient);
        assert_eq!(prefer.return_, PreferReturn::OperationOutcome);
        assert_eq!(parse_prefer(None), Prefer::default());
    }
}

//! A Patient's names sorted by how they are written (JP Core: kanji and kana are separate
//! HumanName entries told apart by the ISO 21090 EN representation extension), each reduced
//! to folded comparison keys.

use super::normalize::fold_name;
use serde_json::Value;

/// The extension marking a HumanName's script (`IDE` ideographic, `SYL` syllabic, `ABC`).
const REPRESENTATION_URL: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

/// How a HumanName is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// `IDE`: kanji.
    Kanji,
    /// `SYL`: kana.
    Kana,
    /// No representation extension, or another code (e.g. `ABC`, romaji).
    Other,
}

/// One HumanName as folded comparison keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKeys {
    /// How it is written.
    pub script: Script,
    /// The whole name, family then given (and given then family, for names typed in the
    /// other order), or the folded `text` when it has no parts.
    pub whole: Vec<String>,
    /// The folded family name, when present.
    pub family: Option<String>,
}

impl NameKeys {
    /// Whether both name the same whole person.
    pub fn whole_equal(&self, other: &NameKeys) -> bool {
        self.whole.iter().any(|key| other.whole.contains(key))
    }

    /// Whether both carry the same family name.
    pub fn family_equal(&self, other: &NameKeys) -> bool {
        matches!((&self.family, &other.family), (Some(mine), Some(theirs)) if mine == theirs)
    }
}

/// The names of a Patient that have anything to compare (empty ones are left out).
pub fn name_keys(patient: &Value) -> Vec<NameKeys> {
    patient
        .get("name")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(keys_of)
        .collect()
}

fn keys_of(name: &Value) -> Option<NameKeys> {
    let family = name
        .get("family")
        .and_then(Value::as_str)
        .map(fold_name)
        .filter(|family| !family.is_empty());
    let given: String = name
        .get("given")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(Value::as_str)
        .map(fold_name)
        .collect();
    let family_text = family.clone().unwrap_or_default();
    let whole = if family.is_some() || !given.is_empty() {
        let mut whole = vec![format!("{family_text}{given}")];
        if family.is_some() && !given.is_empty() {
            whole.push(format!("{given}{family_text}"));
        }
        whole
    } else {
        let text = name.get("text").and_then(Value::as_str).map(fold_name)?;
        if text.is_empty() {
            return None;
        }
        vec![text]
    };
    Some(NameKeys {
        script: script_of(name),
        whole,
        family,
    })
}

fn script_of(name: &Value) -> Script {
    let code = name
        .get("extension")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .find(|extension| extension.get("url").and_then(Value::as_str) == Some(REPRESENTATION_URL))
        .and_then(|extension| extension.get("valueCode"))
        .and_then(Value::as_str);
    match code {
        Some("IDE") => Script::Kanji,
        Some("SYL") => Script::Kana,
        _ => Script::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kana(family: &str, given: &str) -> Value {
        json!({
            "extension": [{"url": REPRESENTATION_URL, "valueCode": "SYL"}],
            "family": family,
            "given": [given],
        })
    }

    #[test]
    fn scripts_come_from_the_representation_extension() {
        let patient = json!({"name": [
            kana("ヤマダ", "タロウ"),
            {"extension": [{"url": REPRESENTATION_URL, "valueCode": "IDE"}], "text": "山田 太郎"},
            {"family": "Yamada", "given": ["Taro"]},
            {"given": []},
        ]});
        let keys = name_keys(&patient);
        let scripts: Vec<Script> = keys.iter().map(|keys| keys.script).collect();
        assert_eq!(scripts, [Script::Kana, Script::Kanji, Script::Other]);
        assert_eq!(keys[1].whole, ["山田太郎"]);
        assert_eq!(keys[1].family, None);
        assert_eq!(keys[2].whole, ["yamadataro", "taroyamada"]);
    }

    #[test]
    fn text_only_name_equals_the_parts_in_japanese_order() {
        let parts = keys_of(&kana("やまだ", "たろう")).unwrap();
        let text = keys_of(&json!({"text": "ヤマダ　タロウ"})).unwrap();
        assert!(parts.whole_equal(&text));
        assert!(!parts.family_equal(&text));
    }
}

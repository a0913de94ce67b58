//! Property tests of the SS-MIX2 file-name parser: any text is parsed or refused without a
//! panic, and every valid name prints back to itself and lands in its standard folders.

use proptest::prelude::*;
use tsunagi_adapters::ssmix2::{Condition, FileName};

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.-]{0,15}"
}

fn valid_name() -> impl Strategy<Value = FileName> {
    (
        "[0-9A-Z]{1,12}",
        prop::option::of("[0-9]{8}"),
        word(),
        word(),
        "[0-9]{17}",
        prop::option::of(word()),
        prop_oneof![
            Just(Condition::Deleted),
            Just(Condition::Current),
            Just(Condition::Superseded)
        ],
    )
        .prop_map(
            |(patient_id, care_date, data_type, order_number, timestamp, department, condition)| {
                FileName {
                    patient_id,
                    care_date,
                    data_type,
                    order_number,
                    timestamp,
                    department,
                    condition,
                }
            },
        )
        // "-" alone is the "none" marker of the optional parts.
        .prop_filter("department '-' means none", |name| {
            name.department.as_deref() != Some("-")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_is_parsed_or_refused(text in "\\PC{0,80}") {
        let _ = FileName::parse(&text);
    }

    #[test]
    fn underscore_joined_parts_are_parsed_or_refused(parts in prop::collection::vec("[0-9A-Za-z.-]{0,18}", 0..10)) {
        let text = parts.join("_");
        if let Ok(name) = FileName::parse(&text) {
            prop_assert_eq!(name.to_string(), text);
        }
    }

    #[test]
    fn valid_names_round_trip(name in valid_name()) {
        let text = name.to_string();
        prop_assert_eq!(FileName::parse(&text), Ok(name.clone()));
        let path = name.storage_path();
        let folders: Vec<&str> = path.split('/').collect();
        prop_assert_eq!(folders.len(), 6);
        prop_assert_eq!(folders[2], name.patient_id.as_str());
        prop_assert_eq!(format!("{}{}", folders[0], folders[1]),
            name.patient_id.chars().take(6).collect::<String>());
        prop_assert_eq!(folders[5], text.as_str());
    }
}

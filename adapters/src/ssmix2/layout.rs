//! Where a file sits in the tree against what its name says: the standard layout is
//! `ID[0:3]/ID[3:6]/<patientId>/<careDate or ->/<dataType>/<file>`. A file whose folders
//! disagree with its name is still read (the message is the record), and the disagreement is
//! reported.

use super::file_name::FileName;

/// Every disagreement between the folders above a file and its name. `folders` are the five
/// folder names between the storage root and the file, outermost first; a path of another
/// depth is reported as such.
pub fn check_layout(folders: &[&str], name: &FileName) -> Vec<String> {
    let [first, second, patient, date, data_type] = folders else {
        return vec![format!(
            "the file is {} folders below the root, the standard layout has 5 \
             (ID[0:3]/ID[3:6]/patientId/date/dataType)",
            folders.len()
        )];
    };
    let mut problems = Vec::new();
    if *patient != name.patient_id {
        problems.push(format!(
            "the patient folder {patient:?} differs from the file name's patient id {:?}",
            name.patient_id
        ));
    }
    let (expected_first, expected_second) = name.id_folders();
    if (*first, *second) != (expected_first.as_str(), expected_second.as_str()) {
        problems.push(format!(
            "the folders {first}/{second} are not ID[0:3]/ID[3:6] of patient id {:?} \
             ({expected_first}/{expected_second})",
            name.patient_id
        ));
    }
    if *date != name.date_folder() {
        problems.push(format!(
            "the date folder {date:?} differs from the file name's care date {:?}",
            name.date_folder()
        ));
    }
    if *data_type != name.data_type {
        problems.push(format!(
            "the data-type folder {data_type:?} differs from the file name's data type {:?}",
            name.data_type
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> FileName {
        FileName::parse(text).unwrap()
    }

    #[test]
    fn the_standard_layout_has_no_problems() {
        let file = name("9999013_20111220_OMG-11_2011122000300_20111220224447339_24_1");
        let folders = ["999", "901", "9999013", "20111220", "OMG-11"];
        assert!(check_layout(&folders, &file).is_empty());
    }

    #[test]
    fn a_file_in_a_foreign_folder_is_reported_part_by_part() {
        // The upstream checker fixture: an OMP-11 name of patient 9999013 under 0000001/ADT-31.
        let file = name("9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1");
        let folders = ["000", "000", "0000001", "20000401", "ADT-31"];
        let problems = check_layout(&folders, &file);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("\"0000001\""));
        assert!(problems[3].contains("\"ADT-31\""));
        assert_eq!(check_layout(&folders[1..], &file).len(), 1);
    }
}

//! The privacy filter against a labelled corpus of positives per type and
//! tricky negatives (UUIDs, hashes, versions, times, ids): recall and
//! precision per category, printed, with zero missed secrets required.

use std::collections::BTreeMap;

use privacy::{Category, Redactor};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    expect: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    category: Category,
    value: String,
}

#[derive(Default, Debug)]
struct Tally {
    true_positives: usize,
    false_positives: usize,
    false_negatives: usize,
}

#[test]
fn corpus_recall_and_precision_per_category() {
    let corpus = include_str!("../testdata/privacy_corpus.jsonl");
    let filter = Redactor::new().expect("filter");
    let mut tallies: BTreeMap<Category, Tally> = BTreeMap::new();
    for line in corpus.lines() {
        let case: Case = serde_json::from_str(line).expect("corpus line");
        let mut found: Vec<(Category, String)> = filter
            .detect(&case.text)
            .into_iter()
            .map(|d| (d.category, case.text[d.start..d.end].to_string()))
            .collect();
        for expected in &case.expect {
            let tally = tallies.entry(expected.category).or_default();
            match found
                .iter()
                .position(|(c, v)| *c == expected.category && *v == expected.value)
            {
                Some(index) => {
                    found.remove(index);
                    tally.true_positives += 1;
                }
                None => {
                    tally.false_negatives += 1;
                    eprintln!(
                        "MISSED {:?} {:?} in {:?}",
                        expected.category, expected.value, case.text
                    );
                }
            }
        }
        for (category, value) in found {
            tallies.entry(category).or_default().false_positives += 1;
            eprintln!("EXTRA {category:?} {value:?} in {:?}", case.text);
        }
    }
    let mut totals = Tally::default();
    eprintln!("{:<16} {:>6} {:>9}", "category", "recall", "precision");
    for (category, t) in &tallies {
        let recall = t.true_positives as f64 / (t.true_positives + t.false_negatives).max(1) as f64;
        let precision =
            t.true_positives as f64 / (t.true_positives + t.false_positives).max(1) as f64;
        eprintln!("{:<16} {recall:>6.2} {precision:>9.2}", category.label());
        totals.true_positives += t.true_positives;
        totals.false_positives += t.false_positives;
        totals.false_negatives += t.false_negatives;
    }
    eprintln!("overall: {totals:?}");
    assert_eq!(
        totals.false_negatives, 0,
        "every planted secret and identifier is caught"
    );
    assert_eq!(totals.false_positives, 0, "no tricky negative is redacted");
}

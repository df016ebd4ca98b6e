use std::borrow::Cow;

use promql_parser::label::Labels as ByLabels;
use promql_parser::parser::LabelModifier;

use super::{Grouper, LabelsRef};

fn lend<'s>(pairs: Vec<(&'s str, &'s str)>) -> LabelsRef<'s> {
    pairs
        .into_iter()
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
        .collect()
}

/// Elements whose label names are borrowed at the same addresses reuse the key mask; any
/// other names (borrowed elsewhere, even with the same text or length, or owned) are looked
/// at again, so every element lands in the group of its own `by` labels.
#[test]
fn the_key_mask_is_reused_only_for_the_same_borrowed_names() {
    let names: Vec<String> = ["job", "pod", "job", "abc"].map(String::from).to_vec();
    let [job, pod, job_again, abc] = [0, 1, 2, 3].map(|i| names[i].as_str());
    let by = LabelModifier::Include(ByLabels::new(vec!["job"]));
    let mut grouper = Grouper::new(Some(&by));
    let elements: Vec<LabelsRef<'_>> = vec![
        lend(vec![(job, "a"), (pod, "p1")]),
        lend(vec![(job, "a"), (pod, "p2")]),
        lend(vec![(job_again, "b"), (pod, "p3")]),
        lend(vec![(abc, "c"), (pod, "p4")]),
        vec![
            (Cow::Owned("job".into()), Cow::Borrowed("d")),
            (Cow::Owned("pod".into()), Cow::Borrowed("p5")),
        ]
        .into(),
        lend(vec![(job, "b"), (pod, "p6")]),
    ];
    let groups: Vec<usize> = elements.iter().map(|l| grouper.group(l)).collect();
    assert_eq!(groups, [0, 0, 1, 2, 3, 1]);
    let keys: Vec<Vec<(&str, &str)>> = grouper
        .keys
        .iter()
        .map(|k| k.iter().map(|(a, b)| (a.as_ref(), b.as_ref())).collect())
        .collect();
    assert_eq!(
        keys,
        [
            vec![("job", "a")],
            vec![("job", "b")],
            vec![],
            vec![("job", "d")],
        ]
    );

    // Owned names are freed with their element, and the allocator may hand the same memory
    // to the next element's names: "abc" where "job" was must not take job's mask.
    let mut grouper = Grouper::new(Some(&by));
    let owned = |k: &str, v: &'static str| -> LabelsRef<'static> {
        vec![(Cow::Owned(k.to_owned()), Cow::Borrowed(v))].into()
    };
    let first = owned("job", "a");
    assert_eq!(grouper.group(&first), 0);
    drop(first);
    let second = owned("abc", "b");
    assert_eq!(grouper.group(&second), 1);
    assert!(grouper.keys.get(1).is_some_and(|k| k.is_empty()));
}

/// Keys whose hashes collide are told apart by their text: each finds its own group along
/// the chain of its hash, the same text at another address included.
#[test]
fn keys_of_one_hash_are_told_apart_by_their_text() {
    let texts: Vec<String> = ["b", "a"].map(String::from).to_vec();
    let by = LabelModifier::Include(ByLabels::new(vec!["job"]));
    let mut grouper = Grouper::new(Some(&by));
    grouper.collide = true;
    let (b_again, a_again) = (texts[0].as_str(), texts[1].as_str());
    let keys = ["a", "b", "c", "ab", "b", "a", b_again, a_again];
    let groups: Vec<usize> = keys
        .iter()
        .map(|v| grouper.group(&lend(vec![("job", v), ("pod", v)])))
        .collect();
    assert_eq!(groups, [0, 1, 2, 3, 1, 0, 1, 0]);
    let values: Vec<&str> = grouper.keys.iter().map(|k| k[0].1.as_ref()).collect();
    assert_eq!(values, ["a", "b", "c", "ab"]);
}

/// Looking a key up adds no group: an unseen key is none, a seen one its own, whether it was
/// the last one looked at or not.
#[test]
fn finding_a_key_adds_no_group() {
    let by = LabelModifier::Include(ByLabels::new(vec!["job"]));
    let mut grouper = Grouper::new(Some(&by));
    let [a, b, c] = ["a", "b", "c"].map(|v| lend(vec![("job", v), ("pod", v)]));
    assert_eq!(grouper.group(&a), 0);
    assert_eq!(grouper.group(&b), 1);
    assert_eq!(grouper.find(&c), None);
    assert_eq!(grouper.find(&a), Some(0));
    assert_eq!(grouper.find(&c), None);
    assert_eq!(grouper.find(&b), Some(1));
    assert_eq!(grouper.find(&b), Some(1));
    assert_eq!(grouper.keys.len(), 2);
    assert_eq!(grouper.group(&c), 2);
    assert_eq!(grouper.find(&c), Some(2));
}

/// An element whose key strings are borrowed at the last element's addresses joins its group
/// without a hash; any other key (the same text elsewhere, another value of the same length,
/// owned strings, other names) is found by its text.
#[test]
fn a_run_of_the_same_borrowed_key_shares_the_last_group() {
    let texts: Vec<String> = ["job", "pod", "a", "a", "b", "c", "job"]
        .map(String::from)
        .to_vec();
    let [job, pod, a, a_again, b, c, job_again] = [0, 1, 2, 3, 4, 5, 6].map(|i| texts[i].as_str());
    let by = LabelModifier::Include(ByLabels::new(vec!["job"]));
    let mut grouper = Grouper::new(Some(&by));
    let elements: Vec<LabelsRef<'_>> = vec![
        lend(vec![(job, a), (pod, "p1")]),
        lend(vec![(job, a), (pod, "p2")]),
        lend(vec![(job, a_again), (pod, "p3")]),
        lend(vec![(job, b), (pod, "p4")]),
        lend(vec![(job, c), (pod, "p5")]),
        lend(vec![(job, c), (pod, "p6")]),
        vec![(Cow::Borrowed(job), Cow::Owned("a".into()))].into(),
        vec![(Cow::Borrowed(job), Cow::Owned("b".into()))].into(),
        lend(vec![(job_again, b)]),
        lend(vec![(pod, b)]),
        lend(vec![(job, b)]),
    ];
    let groups: Vec<usize> = elements.iter().map(|l| grouper.group(l)).collect();
    assert_eq!(groups, [0, 0, 0, 1, 2, 2, 0, 1, 1, 3, 1]);
    assert_eq!(grouper.keys.len(), 4);
    assert!(grouper.keys.get(3).is_some_and(|k| k.is_empty()));

    // An owned value freed with its element may leave its memory to the next one's: "y"
    // where "x" was must not join x's group.
    let mut grouper = Grouper::new(Some(&by));
    let first: LabelsRef<'_> = vec![(Cow::Borrowed(job), Cow::Owned("x".into()))].into();
    assert_eq!(grouper.group(&first), 0);
    drop(first);
    let second: LabelsRef<'_> = vec![(Cow::Borrowed(job), Cow::Owned("y".into()))].into();
    assert_eq!(grouper.group(&second), 1);
}

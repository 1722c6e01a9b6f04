//! `--shard I/N`: split one check across N parallel CI jobs.
//!
//! Every job resolves the same target list (Dockerfiles and images together), sorts it by
//! the reported path or reference, and keeps the targets at positions `I-1`, `I-1+N`, `I-1+2N`, … (round-robin). So the N shards are
//! disjoint, together cover every target exactly once, and are balanced to within one
//! target; neighbouring files (often similar in size) land in different shards. `I` is
//! 1-based, like GitLab's `CI_NODE_INDEX` and GitHub matrix values written `1..N`.
//!
//! A shard may be empty (more shards than targets): it checks nothing and passes.

use std::fmt;
use std::str::FromStr;

/// One shard of N: `index` in `1..=total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    total: usize,
}

impl Shard {
    /// `index` in `1..=total`.
    pub fn new(index: usize, total: usize) -> Result<Shard, String> {
        if total == 0 {
            return Err("the number of shards must be at least 1".to_string());
        }
        if index == 0 || index > total {
            return Err(format!(
                "shard {index} of {total} does not exist; shards are numbered 1 to {total}"
            ));
        }
        Ok(Shard { index, total })
    }

    pub fn index(self) -> usize {
        self.index
    }

    pub fn total(self) -> usize {
        self.total
    }

    /// This shard's items: all of them sorted by `key` (ties keep their order), then every
    /// N-th from position `index - 1`.
    pub fn select<T, K: Ord>(self, items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
        let mut items = items;
        items.sort_by_key(|item| key(item));
        items
            .into_iter()
            .enumerate()
            .filter(|(position, _)| position % self.total == self.index - 1)
            .map(|(_, item)| item)
            .collect()
    }

    /// Splits two kinds of targets (Dockerfiles and images) as one list, so the shards
    /// stay balanced whatever the mix: both are keyed, sorted together by key and dealt
    /// round-robin; each item keeps its kind.
    pub fn select_both<A, B>(
        self,
        a: Vec<A>,
        key_a: impl Fn(&A) -> String,
        b: Vec<B>,
        key_b: impl Fn(&B) -> String,
    ) -> (Vec<A>, Vec<B>) {
        enum Either<A, B> {
            A(A),
            B(B),
        }
        let keyed: Vec<(String, Either<A, B>)> = a
            .into_iter()
            .map(|x| (key_a(&x), Either::A(x)))
            .chain(b.into_iter().map(|y| (key_b(&y), Either::B(y))))
            .collect();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for (_, item) in self.select(keyed, |(key, _)| key.clone()) {
            match item {
                Either::A(x) => left.push(x),
                Either::B(y) => right.push(y),
            }
        }
        (left, right)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = || format!("`{text}`: expected INDEX/TOTAL, e.g. 2/4 for the second of four");
        let (index, total) = text.trim().split_once('/').ok_or_else(usage)?;
        let number = |s: &str| s.trim().parse::<usize>().map_err(|_| usage());
        Shard::new(number(index)?, number(total)?).map_err(|e| format!("`{text}`: {e}"))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn parses_index_over_total() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard::new(2, 4).unwrap()));
        assert_eq!(
            " 1 / 1 ".parse::<Shard>().map(|s| s.to_string()).unwrap(),
            "1/1"
        );
        for (bad, why) in [
            ("0/4", "numbered 1 to 4"),
            ("5/4", "numbered 1 to 4"),
            ("1/0", "at least 1"),
            ("2", "INDEX/TOTAL"),
            ("a/b", "INDEX/TOTAL"),
            ("-1/2", "INDEX/TOTAL"),
            ("", "INDEX/TOTAL"),
        ] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn shards_are_disjoint_cover_everything_and_are_balanced() {
        let all: Vec<String> = (0..23).map(|i| format!("svc{i:02}/Dockerfile")).collect();
        for total in 1..=7 {
            let mut seen = BTreeSet::new();
            let mut sizes = Vec::new();
            for index in 1..=total {
                let shard = Shard::new(index, total).unwrap();
                // Input order must not matter: each job may list targets differently.
                let mut shuffled = all.clone();
                shuffled.rotate_left(index * 5 % all.len());
                let picked = shard.select(shuffled, |s| s.clone());
                sizes.push(picked.len());
                for item in picked {
                    assert!(seen.insert(item.clone()), "{item} in two shards of {total}");
                }
            }
            assert_eq!(seen.len(), all.len(), "shards of {total} cover everything");
            let (min, max) = (sizes.iter().min(), sizes.iter().max());
            assert!(max.unwrap() - min.unwrap() <= 1, "{total}: {sizes:?}");
        }
    }

    #[test]
    fn two_kinds_are_dealt_as_one_list() {
        let files = vec!["b/Dockerfile", "a/Dockerfile"];
        let images = vec!["docker://x:1", "docker://y:1"];
        let mut all_files = Vec::new();
        let mut all_images = Vec::new();
        for index in 1..=2 {
            let shard = Shard::new(index, 2).unwrap();
            let (f, i) = shard.select_both(
                files.clone(),
                |s| s.to_string(),
                images.clone(),
                |s| s.to_string(),
            );
            assert_eq!(f.len() + i.len(), 2, "balanced across kinds");
            all_files.extend(f);
            all_images.extend(i);
        }
        all_files.sort();
        all_images.sort();
        assert_eq!(all_files, ["a/Dockerfile", "b/Dockerfile"]);
        assert_eq!(all_images, ["docker://x:1", "docker://y:1"]);
    }

    #[test]
    fn more_shards_than_items_leaves_some_empty() {
        let items = vec!["b", "a"];
        assert_eq!(
            Shard::new(1, 3).unwrap().select(items.clone(), |s| *s),
            ["a"]
        );
        assert_eq!(
            Shard::new(2, 3).unwrap().select(items.clone(), |s| *s),
            ["b"]
        );
        assert!(Shard::new(3, 3).unwrap().select(items, |s| *s).is_empty());
    }
}

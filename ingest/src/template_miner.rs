use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::TemplateRef;
use crate::masking::mask_token;

/// Settings of the [`TemplateMiner`]. One default for every log source: a
/// user should never have to tune per source. The defaults sit in the middle
/// of a plateau of the LogHub grouping accuracy (similarity 0.7 to 0.8,
/// settled after 10 to 50 lines all score within one point), not on a peak.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerConfig {
    /// Share of positions that must agree for a line to join a template.
    pub similarity: f64,
    /// Leading tokens used to route a line before similarity is compared.
    pub prefix_tokens: usize,
    /// A position that held one value for this many lines is a constant: a
    /// line that differs there is another event, not a new parameter value.
    pub settled_after: u64,
}

impl Default for MinerConfig {
    fn default() -> Self {
        MinerConfig {
            similarity: 0.75,
            prefix_tokens: 2,
            settled_after: 20,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Cluster {
    tokens: Vec<String>,
    size: u64,
}

impl Cluster {
    /// True when `tokens` differs at a position that has held its value for
    /// `settled` lines or more (every line so far, as it is not a wildcard).
    fn contradicts_settled(&self, tokens: &[String], settled: u64) -> bool {
        self.size >= settled
            && self
                .tokens
                .iter()
                .zip(tokens)
                .any(|(kept, seen)| kept != WILDCARD && kept != seen && !seen.contains(WILDCARD))
    }
}

/// Online log template mining in the spirit of Drain (He et al., ICWS'17).
///
/// Each message is tokenized on whitespace and its obviously variable tokens
/// (anything with a digit, hex, emails, paths with ids) are masked. Lines are
/// routed by token count and their first constant tokens, then join the most
/// similar template in that bucket, whose differing positions become `<*>`;
/// otherwise they start a new template. Template ids are assigned once, in
/// order of creation, and survive [`TemplateMiner::to_json`] /
/// [`TemplateMiner::from_json`], so they are stable across runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TemplateMiner {
    config: MinerConfig,
    clusters: Vec<Cluster>,
    #[serde(skip)]
    routes: HashMap<Vec<String>, Vec<usize>>,
}

const WILDCARD: &str = "<*>";

impl TemplateMiner {
    /// A miner with `config` and no templates yet.
    pub fn new(config: MinerConfig) -> Self {
        TemplateMiner {
            config,
            clusters: Vec::new(),
            routes: HashMap::new(),
        }
    }

    /// Restores a miner saved with [`TemplateMiner::to_json`].
    pub fn from_json(json: &str) -> serde_json::Result<Self> {
        let mut miner: TemplateMiner = serde_json::from_str(json)?;
        miner.rebuild_routes();
        Ok(miner)
    }

    /// Rebuilds the routing index, which is not serialized.
    pub(crate) fn rebuild_routes(&mut self) {
        self.routes.clear();
        for (index, cluster) in self.clusters.iter().enumerate() {
            let route = route(&cluster.tokens, self.config.prefix_tokens);
            self.routes.entry(route).or_default().push(index);
        }
    }

    /// The miner's state, for [`TemplateMiner::from_json`].
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }

    /// Number of templates mined so far.
    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    /// True when nothing has been mined.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Adds a message and returns the template it now belongs to.
    pub fn add(&mut self, message: &str) -> TemplateRef {
        let tokens: Vec<String> = message
            .split_whitespace()
            .map(|t| mask_token(t).into_owned())
            .collect();
        let route = route(&tokens, self.config.prefix_tokens);
        let candidates = self.routes.entry(route).or_default();
        let settled = self.config.settled_after;
        let best = candidates
            .iter()
            .filter(|&&index| !self.clusters[index].contradicts_settled(&tokens, settled))
            .map(|&index| (index, similarity(&self.clusters[index].tokens, &tokens)))
            .filter(|(_, score)| *score >= self.config.similarity)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let index = match best {
            Some((index, _)) => {
                let cluster = &mut self.clusters[index];
                for (kept, seen) in cluster.tokens.iter_mut().zip(&tokens) {
                    if kept != seen {
                        *kept = WILDCARD.to_string();
                    }
                }
                cluster.size += 1;
                index
            }
            None => {
                self.clusters.push(Cluster { tokens, size: 1 });
                let index = self.clusters.len() - 1;
                candidates.push(index);
                index
            }
        };
        self.template(index)
    }

    fn template(&self, index: usize) -> TemplateRef {
        TemplateRef {
            id: format!("t-{index:06x}"),
            text: self.clusters[index].tokens.join(" "),
        }
    }

    /// The current text of every template, by id.
    pub fn templates(&self) -> Vec<TemplateRef> {
        (0..self.clusters.len()).map(|i| self.template(i)).collect()
    }
}

/// The routing key: token count, then the first tokens, with variable ones
/// collapsed so that `<*>`-led lines share a bucket.
fn route(tokens: &[String], prefix: usize) -> Vec<String> {
    let mut key = vec![tokens.len().to_string()];
    key.extend(tokens.iter().take(prefix).map(|t| {
        if t.contains(WILDCARD) {
            WILDCARD.to_string()
        } else {
            t.clone()
        }
    }));
    key
}

/// Share of positions where the template and the line agree; a wildcard in
/// the template agrees with anything only when the line is masked there too.
fn similarity(template: &[String], tokens: &[String]) -> f64 {
    if template.len() != tokens.len() {
        return 0.0;
    }
    if tokens.is_empty() {
        // Empty messages are one template, not one each.
        return 1.0;
    }
    let same = template.iter().zip(tokens).filter(|(a, b)| a == b).count();
    same as f64 / tokens.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_shape_share_a_template_and_its_id() {
        let mut miner = TemplateMiner::default();
        let a = miner.add("PacketResponder 1 for block blk_38865 terminating");
        let b = miner.add("PacketResponder 0 for block blk_-6952 terminating");
        let c = miner.add("Verification succeeded for blk_-6952");
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(b.text, "PacketResponder <*> for block <*> terminating");
        assert_eq!(miner.len(), 2);
    }

    #[test]
    fn constant_tokens_that_differ_generalize_into_wildcards() {
        let mut miner = TemplateMiner::default();
        miner.add("session opened for user root by admin");
        let t = miner.add("session opened for user alice by admin");
        assert_eq!(t.text, "session opened for user <*> by admin");
    }

    #[test]
    fn empty_messages_share_one_template() {
        let mut miner = TemplateMiner::default();
        let first = miner.add("");
        assert_eq!(miner.add("   ").id, first.id);
        assert_eq!(miner.len(), 1);
    }

    #[test]
    fn ids_are_stable_across_save_and_load() {
        let mut miner = TemplateMiner::default();
        let first = miner.add("connection from 10.0.0.1 closed");
        miner.add("disk full on /var");
        let json = miner.to_json().expect("save");
        let mut restored = TemplateMiner::from_json(&json).expect("load");
        assert_eq!(restored.add("connection from 10.0.0.9 closed").id, first.id);
        assert_eq!(restored.len(), 2);
    }
}

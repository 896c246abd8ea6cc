//! What every learner's configuration shares: its table in a TOML file or an already parsed
//! configuration, and its shipped presets.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// A learner's shipped configuration files, embedded so they work from any directory: `(name,
/// TOML text)` pairs, the name an environment id or a variant's name.
///
/// ```
/// use rl_nn::config::Presets;
/// const PRESETS: Presets = Presets::new("PPO", &[("CartPole-v1", "[ppo]\nn_steps = 32\n")]);
/// assert_eq!(PRESETS.names(), ["CartPole-v1"]);
/// assert!(PRESETS.get("Pendulum-v1").is_none());
/// assert_eq!(
///     PRESETS.text("Pendulum-v1").unwrap_err(),
///     "no PPO preset \"Pendulum-v1\"; the presets are CartPole-v1"
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Presets {
    learner: &'static str,
    files: &'static [(&'static str, &'static str)],
}

impl Presets {
    /// The presets of `learner` (its name as users know it, for messages).
    pub const fn new(
        learner: &'static str,
        files: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { learner, files }
    }

    /// The preset file named `name`, if one ships.
    pub fn get(&self, name: &str) -> Option<&'static str> {
        self.files.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Every preset name, in the order shipped.
    pub fn names(&self) -> Vec<&'static str> {
        self.files.iter().map(|(n, _)| *n).collect()
    }

    /// The preset file named `name`, or a message naming the presets there are.
    pub fn text(&self, name: &str) -> Result<&'static str, String> {
        self.get(name).ok_or_else(|| {
            format!(
                "no {} preset {name:?}; the presets are {}",
                self.learner,
                self.names().join(", ")
            )
        })
    }
}

/// The table `[table]` of the TOML document `text` as `C` (`C::default()` where the table is
/// absent; unknown keys are `C`'s to refuse), then checked by `validate`. The table is
/// deserialized in place, not through an intermediate value, so a wrong key or value is quoted
/// with its line; a TOML error becomes the learner's configuration error through `invalid`.
///
/// ```
/// #[derive(serde::Deserialize, Default, Debug, PartialEq)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config { n_steps: usize }
/// let text = "[run]\nseed = 1\n\n[ppo]\nn_steps = 32\n";
/// let ok = |_: &Config| Ok::<(), String>(());
/// let config: Config = rl_nn::config::parse_table(text, "ppo", |e| e, ok).unwrap();
/// assert_eq!(config, Config { n_steps: 32 });
/// let err = rl_nn::config::parse_table(text.replace("n_steps", "n_step").as_str(), "ppo", |e| e, ok);
/// assert!(err.unwrap_err().contains("line 5"));
/// ```
pub fn parse_table<C, E>(
    text: &str,
    table: &str,
    invalid: impl Fn(String) -> E,
    validate: impl Fn(&C) -> Result<(), E>,
) -> Result<C, E>
where
    C: for<'de> Deserialize<'de> + Default,
{
    let document = toml::Deserializer::parse(text).map_err(|e| invalid(e.to_string()))?;
    let config = TableOf::<C> {
        name: table,
        table: PhantomData,
    }
    .deserialize(document)
    .map_err(|e| invalid(e.to_string()))?
    .unwrap_or_default();
    validate(&config)?;
    Ok(config)
}

/// An algorithm's table already parsed (the runner's resolved configuration: preset, file,
/// `--set` and flags merged) as `C` (unknown keys are `C`'s to refuse, and the message names
/// them), then checked by `validate`.
///
/// ```
/// #[derive(serde::Deserialize, Default, Debug, PartialEq)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config { n_steps: usize }
/// let ok = |_: &Config| Ok::<(), String>(());
/// let table: toml::Table = toml::from_str("n_steps = 32").unwrap();
/// let config: Config = rl_nn::config::from_table(&table, |e| e, ok).unwrap();
/// assert_eq!(config, Config { n_steps: 32 });
/// let table: toml::Table = toml::from_str("n_step = 32").unwrap();
/// let err = rl_nn::config::from_table::<Config, _>(&table, |e| e, ok).unwrap_err();
/// assert!(err.contains("unknown field `n_step`"), "{err}");
/// let table: toml::Table = toml::from_str("n_steps = \"32\"").unwrap();
/// let err = rl_nn::config::from_table::<Config, _>(&table, |e| e, ok).unwrap_err();
/// assert_eq!(err, "n_steps: invalid type: string \"32\", expected usize");
/// ```
pub fn from_table<C, E>(
    table: &toml::Table,
    invalid: impl Fn(String) -> E,
    validate: impl Fn(&C) -> Result<(), E>,
) -> Result<C, E>
where
    C: for<'de> Deserialize<'de>,
{
    let config: C =
        serde_path_to_error::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
            // A wrong value is named by its key; an unknown key names itself.
            let message = e.inner().message().trim_end().to_owned();
            match e.path().to_string() {
                path if path == "." || message.contains('`') => invalid(message),
                path => invalid(format!("{path}: {message}")),
            }
        })?;
    validate(&config)?;
    Ok(config)
}

/// Deserializes one named table of a document, skipping the others.
struct TableOf<'a, C> {
    name: &'a str,
    table: PhantomData<C>,
}

impl<'de, C: Deserialize<'de>> DeserializeSeed<'de> for TableOf<'_, C> {
    type Value = Option<C>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<C>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, C: Deserialize<'de>> Visitor<'de> for TableOf<'_, C> {
    type Value = Option<C>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a TOML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<C>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.name {
                found = Some(map.next_value::<C>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

//! Processors by name. Each entry says what the processor is, whether it needs faces, which
//! settings it takes (with their defaults), and how to build it from them; the command line,
//! the studio and story files all build chains through it, so a setting means the same
//! everywhere. Crates above this one add their own processors ([`Registry::register`]).

use std::path::PathBuf;

use serde_json::Value;

use crate::blend::Blend;
use crate::color::ColorMatch;
use crate::{
    Beauty, BeautySettings, Deage, DeageSettings, FrameProcessor, PhotoSwap, ProcessError,
};

/// A processor's settings by name (`strength`, `even_tone`; `even-tone` as on the command line
/// means the same).
pub type Options = serde_json::Map<String, Value>;

/// One setting a processor takes.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub name: &'static str,
    pub help: &'static str,
    /// The default, as JSON text (`0.7`, `"reinhard"`), or None where the setting is required.
    pub default: Option<&'static str>,
}

/// A processor the registry can build.
pub struct Spec {
    pub name: &'static str,
    pub about: &'static str,
    pub needs_faces: bool,
    pub settings: &'static [Setting],
    pub build: fn(&Options) -> Result<Box<dyn FrameProcessor>, ProcessError>,
}

pub struct Registry {
    specs: Vec<Spec>,
}

impl Registry {
    /// The processors of this crate: beauty, deage, photo-swap.
    pub fn builtin() -> Registry {
        Registry {
            specs: vec![beauty_spec(), deage_spec(), photo_swap_spec()],
        }
    }

    /// Adds (or replaces) a processor.
    pub fn register(&mut self, spec: Spec) {
        self.specs.retain(|s| s.name != spec.name);
        self.specs.push(spec);
    }

    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    pub fn get(&self, name: &str) -> Option<&Spec> {
        self.specs.iter().find(|s| s.name == name)
    }

    /// Builds the processor `name` from `options`; unknown processors and settings are refused
    /// with the names that exist.
    pub fn build(
        &self,
        name: &str,
        options: &Options,
    ) -> Result<Box<dyn FrameProcessor>, ProcessError> {
        let spec = self.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.specs.iter().map(|s| s.name).collect();
            ProcessError::Settings(format!(
                "no processor is called {name}; there are {}",
                names.join(", ")
            ))
        })?;
        let mut normalised = Options::new();
        for (key, value) in options {
            let key = key.replace('-', "_");
            if !spec.settings.iter().any(|s| s.name == key) {
                let known: Vec<&str> = spec.settings.iter().map(|s| s.name).collect();
                return Err(ProcessError::Settings(format!(
                    "{name} has no setting {key}; it takes {}",
                    known.join(", ")
                )));
            }
            normalised.insert(key, value.clone());
        }
        (spec.build)(&normalised)
    }
}

/// A number setting, or its default.
pub fn number(options: &Options, name: &str, default: f32) -> Result<f32, ProcessError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_f64()
            .map(|v| v as f32)
            .ok_or_else(|| ProcessError::Settings(format!("{name} must be a number, not {v}"))),
    }
}

/// A required number setting.
pub fn required_number(options: &Options, name: &str) -> Result<f32, ProcessError> {
    if options.get(name).is_none_or(Value::is_null) {
        return Err(ProcessError::Settings(format!("give {name}")));
    }
    number(options, name, 0.0)
}

/// A text setting, or its default.
pub fn text<'a>(
    options: &'a Options,
    name: &str,
    default: &'a str,
) -> Result<&'a str, ProcessError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(ProcessError::Settings(format!(
            "{name} must be text, not {v}"
        ))),
    }
}

/// A list of paths (one path is a list of one).
pub fn paths(options: &Options, name: &str) -> Result<Vec<PathBuf>, ProcessError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![PathBuf::from(s)]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(PathBuf::from)
                    .ok_or_else(|| ProcessError::Settings(format!("{name} must be paths, not {v}")))
            })
            .collect(),
        Some(v) => Err(ProcessError::Settings(format!(
            "{name} must be paths, not {v}"
        ))),
    }
}

/// The colour match and blend settings every swap takes.
pub fn color_and_blend(options: &Options) -> Result<(ColorMatch, Blend), ProcessError> {
    let c = text(options, "color", "reinhard")?;
    let color = ColorMatch::parse(c).ok_or_else(|| {
        ProcessError::Settings(format!(
            "color {c}: use reinhard (or rct), linear, histogram or none"
        ))
    })?;
    let b = text(options, "blend", "multiband")?;
    let blend = Blend::parse(b).ok_or_else(|| {
        ProcessError::Settings(format!("blend {b}: use multiband, poisson or alpha"))
    })?;
    Ok((color, blend))
}

/// The settings of a swap's colour match and blend, for specs.
pub const SWAP_SETTINGS: [Setting; 2] = [
    Setting {
        name: "color",
        help: "colour match: reinhard (rct), linear, histogram or none",
        default: Some("\"reinhard\""),
    },
    Setting {
        name: "blend",
        help: "how the face joins the frame: multiband, poisson or alpha",
        default: Some("\"multiband\""),
    },
];

const BEAUTY_SETTINGS: [Setting; 5] = [
    Setting {
        name: "strength",
        help: "overall strength, 0..1",
        default: Some("0.7"),
    },
    Setting {
        name: "smooth",
        help: "removal of wrinkles, fine lines and unevenness, 0..1",
        default: Some("0.8"),
    },
    Setting {
        name: "even_tone",
        help: "evening of colour and shading, 0..1",
        default: Some("0.5"),
    },
    Setting {
        name: "blemishes",
        help: "extra removal of dark spots, 0..1",
        default: Some("0.8"),
    },
    Setting {
        name: "under_eye",
        help: "lifting of shadows under the eyes, 0..1",
        default: Some("0.5"),
    },
];

fn beauty_spec() -> Spec {
    Spec {
        name: "beauty",
        about: "beauty fix: clearer, even skin with its texture kept",
        needs_faces: true,
        settings: &BEAUTY_SETTINGS,
        build: |o| {
            let d = BeautySettings::default();
            let settings = BeautySettings {
                strength: number(o, "strength", d.strength)?,
                smooth: number(o, "smooth", d.smooth)?,
                even_tone: number(o, "even_tone", d.even_tone)?,
                blemishes: number(o, "blemishes", d.blemishes)?,
                under_eye: number(o, "under_eye", d.under_eye)?,
            };
            Ok(Box::new(Beauty::new(settings)?))
        },
    }
}

fn deage_spec() -> Spec {
    Spec {
        name: "deage",
        about: "retouch de-aging: wrinkles, folds, bags, tone and lower-face shape, by years",
        needs_faces: true,
        settings: &[Setting {
            name: "years",
            help: "years to take off (about 5 to 30)",
            default: None,
        }],
        build: |o| {
            let years = required_number(o, "years")?;
            Ok(Box::new(Deage::new(DeageSettings { years })?))
        },
    }
}

const PHOTO_SWAP_SETTINGS: [Setting; 3] = [
    Setting {
        name: "photo",
        help: "photos of the person whose face goes on",
        default: None,
    },
    SWAP_SETTINGS[0],
    SWAP_SETTINGS[1],
];

fn photo_swap_spec() -> Spec {
    Spec {
        name: "photo-swap",
        about: "face replacement from photos (instant mode, no training)",
        needs_faces: true,
        settings: &PHOTO_SWAP_SETTINGS,
        build: |o| {
            let (color, blend) = color_and_blend(o)?;
            let photos = paths(o, "photo")?;
            Ok(Box::new(
                PhotoSwap::from_photos(&photos)?
                    .with_color(color)
                    .with_blend(blend),
            ))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_by_name_and_value() {
        let r = Registry::builtin();
        let o: Options = serde_json::from_str(r#"{"strength": 0.5, "even-tone": 0.2}"#).unwrap();
        assert_eq!(r.build("beauty", &o).unwrap().name(), "beauty");
        let bad: Options = serde_json::from_str(r#"{"strenght": 0.5}"#).unwrap();
        let e = r.build("beauty", &bad).err().unwrap().to_string();
        assert!(e.contains("no setting strenght"), "{e}");
        let out: Options = serde_json::from_str(r#"{"strength": 3}"#).unwrap();
        assert!(r.build("beauty", &out).is_err());
        assert!(r.build("deage", &Options::new()).is_err());
        assert!(r.build("warp", &Options::new()).is_err());
        for s in r.specs() {
            assert!(s.needs_faces, "{} edits faces", s.name);
        }
    }
}

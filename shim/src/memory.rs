//! Memory the init phase leaves behind, given back once it is over.
//!
//! Measured (shim/README.md, "Memory"): of the shim's ~14 MB RSS after a benchmark run, ~11.8 MB
//! were *file-backed* pages of the `bootstrap` binary itself (code and read-only data) and only
//! ~2.2 MB anonymous memory. Most of those code pages are touched once, by the init phase (the
//! AWS SDK's config loader, credentials chain, S3 and SSM clients, TLS setup), and the kernel
//! maps each faulted page with its neighbours (fault-around, 64 KiB). They stay counted in RSS
//! (and charged to the function's memory cgroup) for the life of the environment.
//!
//! [`release_after_init`] hands them back: `madvise(MADV_PAGEOUT)` on the binary's mappings that
//! hold no anonymous (copied-on-write) pages, i.e. its text and read-only data. Nothing is lost:
//! a clean file page is dropped, and read again from the page cache (or the image) if it is
//! needed again; the steady-state request path faults back in what it uses. Relocated
//! (`.data.rel.ro`) and writable segments are left alone. On glibc, `malloc_trim(0)` also returns
//! the heap the init phase freed.

/// `[start, end)` address ranges of `exe`'s mappings in `/proc/self/smaps` text that are
/// read-only or executable, private, and hold no anonymous pages.
pub fn clean_exe_ranges(smaps: &str, exe: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // (range, perms ok, path ok, anonymous kB) of the mapping being read.
    let mut cur: Option<((usize, usize), bool)> = None;
    let mut anon_kb: Option<u64> = None;
    let mut flush = |cur: &mut Option<((usize, usize), bool)>, anon: &mut Option<u64>| {
        if let Some((range, ok)) = cur.take()
            && ok
            && *anon == Some(0)
        {
            out.push(range);
        }
        *anon = None;
    };
    for line in smaps.lines() {
        if let Some((range, perms, path)) = mapping_header(line) {
            flush(&mut cur, &mut anon_kb);
            let path = path.strip_suffix(" (deleted)").unwrap_or(path);
            let ok = matches!(perms, "r--p" | "r-xp") && path == exe;
            cur = Some((range, ok));
        } else if let Some(v) = line.strip_prefix("Anonymous:") {
            anon_kb = v.trim().trim_end_matches("kB").trim().parse().ok();
        }
    }
    flush(&mut cur, &mut anon_kb);
    out
}

/// `start-end perms offset dev inode [path]` -> (range, perms, path).
fn mapping_header(line: &str) -> Option<((usize, usize), &str, &str)> {
    let mut fields = line.splitn(6, ' ');
    let range = fields.next()?;
    let (a, b) = range.split_once('-')?;
    let start = usize::from_str_radix(a, 16).ok()?;
    let end = usize::from_str_radix(b, 16).ok()?;
    let perms = fields.next()?;
    if perms.len() != 4 {
        return None;
    }
    let _offset = fields.next()?;
    let _dev = fields.next()?;
    let _inode = fields.next()?;
    let path = fields.next().map(str::trim).unwrap_or("");
    Some(((start, end), perms, path))
}

/// What [`release_after_init`] did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Released {
    /// Bytes of the binary's mappings advised out.
    pub paged_out_bytes: usize,
    /// RSS before and after, in KiB (from `/proc/self/status`).
    pub rss_before_kb: Option<u64>,
    pub rss_after_kb: Option<u64>,
    /// Why nothing was paged out, if so.
    pub skipped: Option<String>,
}

fn rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Give back the memory the init phase no longer needs (see the module docs).
pub fn release_after_init() -> Released {
    let mut r = Released {
        rss_before_kb: rss_kb(),
        ..Default::default()
    };
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
    #[cfg(target_os = "linux")]
    {
        let exe = std::env::current_exe().map(|p| p.display().to_string());
        let smaps = std::fs::read_to_string("/proc/self/smaps");
        match (exe, smaps) {
            (Ok(exe), Ok(smaps)) => {
                for (start, end) in clean_exe_ranges(&smaps, &exe) {
                    // SAFETY: the range is a whole mapping of our own binary, read-only or
                    // executable and without anonymous pages: MADV_PAGEOUT only reclaims its
                    // clean file pages, which are read back from the file on the next access.
                    // Kernels before 5.4 answer EINVAL and nothing happens.
                    let rc = unsafe {
                        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT)
                    };
                    if rc == 0 {
                        r.paged_out_bytes += end - start;
                    } else if r.skipped.is_none() {
                        r.skipped = Some(format!(
                            "madvise(MADV_PAGEOUT): {}",
                            std::io::Error::last_os_error()
                        ));
                    }
                }
            }
            (Err(e), _) => r.skipped = Some(format!("current_exe: {e}")),
            (_, Err(e)) => r.skipped = Some(format!("/proc/self/smaps: {e}")),
        }
    }
    r.rss_after_kb = rss_kb();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55bf7e7e0000-55bf7efcc000 r--p 00000000 fe:00 6040678                    /opt/bootstrap
Size:               8112 kB
Rss:                2496 kB
Anonymous:             0 kB
VmFlags: rd mr mw me dw sd
55bf7efcc000-55bf7fd50000 r-xp 007eb000 fe:00 6040678                    /opt/bootstrap
Size:              13840 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw sd
55bf7fd50000-55bf7fe44000 r--p 0156e000 fe:00 6040678                    /opt/bootstrap
Anonymous:           976 kB
55bf7fe44000-55bf7fe71000 rw-p 01661000 fe:00 6040678                    /opt/bootstrap
Anonymous:           160 kB
55bf80000000-55bf80100000 rw-p 00000000 00:00 0                          [heap]
Anonymous:           596 kB
7f0000000000-7f0000100000 r-xp 00000000 fe:00 123                        /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
7f0000200000-7f0000300000 r--p 00000000 fe:00 6040679                    /opt/bootstrap-other
Anonymous:             0 kB
";

    #[test]
    fn only_the_binarys_clean_read_only_and_code_mappings() {
        assert_eq!(
            clean_exe_ranges(SMAPS, "/opt/bootstrap"),
            vec![
                (0x55bf7e7e0000, 0x55bf7efcc000),
                (0x55bf7efcc000, 0x55bf7fd50000)
            ]
        );
        // A replaced binary shows as "(deleted)": still ours.
        let deleted = SMAPS.replace("/opt/bootstrap\n", "/opt/bootstrap (deleted)\n");
        assert_eq!(clean_exe_ranges(&deleted, "/opt/bootstrap").len(), 2);
        assert!(clean_exe_ranges(SMAPS, "/usr/bin/other").is_empty());
        // A mapping whose Anonymous line is missing is not touched.
        let no_anon = "55bf7e7e0000-55bf7efcc000 r-xp 00000000 fe:00 1 /opt/bootstrap\nRss: 4 kB\n";
        assert!(clean_exe_ranges(no_anon, "/opt/bootstrap").is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn release_after_init_pages_out_this_binarys_code() {
        let r = release_after_init();
        assert_eq!(r.skipped, None, "{r:?}");
        assert!(r.paged_out_bytes > 0, "{r:?}");
    }
}

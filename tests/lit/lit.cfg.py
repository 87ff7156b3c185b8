# -*- Python -*-
# lit configuration for attnc: FileCheck tests of attnc-opt and attnc.
import os
import shutil
import subprocess

import lit.formats

config.name = "attnc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".attn", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)

# Tools: our binaries first, then FileCheck & co from LLVM.
config.environment["PATH"] = os.pathsep.join(
    [config.attnc_bin_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"
# Keep kernel caches of tests out of the user's home.
config.environment["ATTNC_CACHE_DIR"] = os.path.join(config.test_exec_root, "cache")
config.substitutions.append(("%examples", os.path.join(config.attnc_src_dir, "examples")))

# A GPU is there when nvidia-smi lists one; REQUIRES: cuda-gpu tests run only then.
def has_gpu():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
        return out.returncode == 0 and "GPU" in out.stdout
    except Exception:
        return False

if has_gpu():
    config.available_features.add("cuda-gpu")

# A pretend libcuda (tests/unit/runtime/FakeCuda.cpp) for `attnc run` without
# a GPU, and the .npy writer of the bad-input suite.
# .ci/sanitize sets ATTNC_SANITIZED: tests whose behaviour ASan changes on
# purpose (huge allocations) say `UNSUPPORTED: asan`.
if os.environ.get("ATTNC_SANITIZED"):
    config.available_features.add("asan")
config.substitutions.append(("%fakecuda", os.path.join(config.attnc_bin_dir, os.pardir, "lib", "libattnc-fake-cuda.so")))
config.substitutions.append(("%mknpy", "python3 " + os.path.join(config.test_source_root, "badinput", "Inputs", "mknpy.py")))

# Permission bits: root ignores them, so a test of an unreadable file or a
# read-only directory proves nothing when run as root. Feature `non-root`:
# lit runs as an ordinary user. `%unpriv` runs a command as an unprivileged
# user: nothing to add when lit is not root; when it is, setpriv to nobody
# (uid/gid 65534), if setpriv exists and nobody can run attnc. Tests that
# need permission bits to hold `REQUIRES: unpriv` and run their commands
# under %unpriv; without such a user they are reported UNSUPPORTED (a skip,
# never a pass). `root`: lit runs as root (tests that chown to another uid).
def unprivileged_prefix():
    if os.geteuid() != 0:
        return ""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    attnc = os.path.join(config.attnc_bin_dir, "attnc")
    try:
        r = subprocess.run(prefix + [attnc, "--version"], capture_output=True, timeout=30)
    except Exception:
        return None
    return " ".join(prefix) if r.returncode == 0 else None

if os.geteuid() == 0:
    config.available_features.add("root")
else:
    config.available_features.add("non-root")
_unpriv = unprivileged_prefix()
if _unpriv is not None:
    config.available_features.add("unpriv")
    config.substitutions.append(("%unpriv", _unpriv))

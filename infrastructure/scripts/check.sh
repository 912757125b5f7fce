#!/usr/bin/env bash
# Offline checks of infrastructure/terraform (no AWS credentials, no network):
#   1. terraform fmt -check -recursive
#   2. terraform init -backend=false + validate for every root/module (provider from the
#      filesystem mirror in infrastructure/terraform.rc). Those that call registry modules
#      (frontend, redis, environments/dev) are validated in a copy whose registry calls point at
#      the pinned copies in TF_MODULES_DIR (default ../shared/terraform-modules beside the
#      repository; resolve_registry_modules.py, which also drops hashicorp/random from
#      elasticache's copy: infrastructure/README.md). Without TF_MODULES_DIR they are reported as
#      "skipped: TF_MODULES_DIR not found" and a copy with the registry modules stubbed is
#      validated instead ("wiring")
#   3. terraform test (mock_provider "aws") where a module has tests/*.tftest.hcl (required for
#      api-gateway, backend and monitoring), with the real registry modules when available;
#      tests-stubbed/ (assertions on the arguments passed to registry modules) always in the
#      stubbed copy
#   4. checkov --skip-download, skipped checks only from infrastructure/checkov-skips.txt
#   5. SC-006: under 500 lines of Terraform (comments, blank lines and variable blocks excluded;
#      the optional canary counted apart)
# Exits non-zero if any check fails; prints a summary. Usage: infrastructure/scripts/check.sh
set -uo pipefail

infra=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$infra/.." && pwd)
tf_root="$infra/terraform"
cache="$infra/.cache" # gitignored
log_dir="$cache/logs"
rm -rf "$cache/stubbed" "$cache/validate" "$cache/resolved"
mkdir -p "$log_dir" "$cache/plugins"

export TF_CLI_CONFIG_FILE="$infra/terraform.rc"
export TF_PLUGIN_CACHE_DIR="$cache/plugins"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
unset TF_WORKSPACE

REQUIRED_TESTS=(modules/api-gateway modules/backend modules/monitoring)
# The pinned terraform-aws-modules copies (../shared/terraform-modules beside the repository).
modules_dir_wanted=${TF_MODULES_DIR:-$root/../shared/terraform-modules}
modules_dir=
[ -d "$modules_dir_wanted" ] && modules_dir=$(cd "$modules_dir_wanted" && pwd)
SC006_LIMIT=${SC006_LIMIT:-500}
CHECKOV="$root/.tools/checkov/bin/checkov"

results=()
failed=0
record() { # status name detail
  results+=("$(printf '%-5s %-44s %s' "$1" "$2" "$3")")
  [ "$1" = FAIL ] && failed=1
  printf '%-5s %-44s %s\n' "$1" "$2" "$3"
}
show_log() { # file: print the tail of a failing step's output
  sed -e 's/^/    | /' "$1" | tail -n 60
}

command -v terraform >/dev/null || { echo "check: terraform not found on PATH" >&2; exit 2; }

# 1. Formatting
if terraform fmt -check -recursive -diff "$infra" >"$log_dir/fmt.log" 2>&1; then
  record PASS "fmt" "terraform fmt -check -recursive"
else
  record FAIL "fmt" "files need terraform fmt (see diff)"
  show_log "$log_dir/fmt.log"
fi

# 2 + 3. init/validate/test per configuration directory
module_sources() { # dir -> the source of every module block in dir/*.tf, one per line
  awk '/^module[[:space:]]+"/ { m = 1 } m && /^[[:space:]]*source[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; m = 0 }' "$1"/*.tf 2>/dev/null
}
registry_sources() { # dir -> comma-separated registry module sources (empty: native-only)
  module_sources "$1" | grep -vE '^\.{1,2}/' | sort -u | paste -sd, -
}

dirs=()
for d in "$tf_root"/modules/*/ "$tf_root"/environments/*/; do
  [ -d "$d" ] && ls "$d"*.tf >/dev/null 2>&1 && dirs+=("${d%/}")
done

for dir in "${dirs[@]}"; do
  rel=${dir#"$tf_root"/}
  name=${rel//\//-}
  regs=$(registry_sources "$dir")
  # A native module that calls a local module which uses registry modules is not native either.
  for sub in $(module_sources "$dir" | grep -E '^\.{1,2}/'); do
    subregs=$(registry_sources "$dir/$sub")
    [ -n "$subregs" ] && regs="${regs:+$regs,}$subregs (via $sub)"
  done
  if [ -n "$regs" ]; then
    regs=$(tr ',' '\n' <<<"$regs" | sed -E 's#^terraform-aws-modules/([^/]+)/aws.*#\1#' | sort -u | paste -sd, -)
    if [ -n "$modules_dir" ]; then
      # The real registry modules: the pinned copies in TF_MODULES_DIR (hashicorp/random dropped
      # from elasticache's copy: see resolve_registry_modules.py), validated and tested as they
      # would be after `terraform init` with network access.
      if [ ! -d "$cache/resolved" ] && ! python3 "$infra/scripts/resolve_registry_modules.py" "$tf_root" "$cache/resolved" "$modules_dir" >"$log_dir/resolve.log" 2>&1; then
        record FAIL "resolve registry modules" "$(tail -n1 "$log_dir/resolve.log")"
        mkdir -p "$cache/resolved" # reported once
      fi
      rdir="$cache/resolved/$rel"
      export TF_DATA_DIR="$cache/tf/real-$name"
      if [ -d "$rdir" ] && (cd "$rdir" && terraform init -backend=false -no-color && terraform validate -no-color) >"$log_dir/validate-$name.log" 2>&1; then
        record PASS "validate $rel" "init -backend=false + validate, terraform-aws-modules $regs from TF_MODULES_DIR"
      else
        record FAIL "validate $rel" "with the terraform-aws-modules $regs from TF_MODULES_DIR"
        [ -f "$log_dir/validate-$name.log" ] && show_log "$log_dir/validate-$name.log"
        continue
      fi
      if ls "$rdir"/tests/*.tftest.hcl >/dev/null 2>&1; then
        tlog="$log_dir/test-$name.log"
        if (cd "$rdir" && terraform test -no-color) >"$tlog" 2>&1; then
          record PASS "test $rel" "(registry modules from TF_MODULES_DIR) $(grep -E '^(Success|Failure)!' "$tlog" | tail -n1)"
        else
          record FAIL "test $rel" "(registry modules from TF_MODULES_DIR) $(grep -E '^(Success|Failure)!' "$tlog" | tail -n1)"
          show_log "$tlog"
        fi
      fi
      # tests-stubbed/ assert on the arguments we pass to the registry modules, which only the
      # stubs expose (a module's internals cannot be referenced from a test): they still run in
      # the stubbed copy below, and only they.
      ls "$tf_root/$rel"/tests-stubbed/*.tftest.hcl >/dev/null 2>&1 || continue
      stub_tests=(tests-stubbed)
    else
      record SKIP "validate $rel" "skipped: TF_MODULES_DIR not found ($modules_dir_wanted): validating with terraform-aws-modules $regs stubbed instead"
      stub_tests=(tests tests-stubbed)
    fi
    # Second best without the modules: validate a copy whose registry module calls are replaced by
    # stubs (our own code, interfaces and references are checked; the registry modules' argument
    # names are not).
    if [ ! -d "$cache/stubbed" ] && ! python3 "$infra/scripts/stub_registry_modules.py" "$tf_root" "$cache/stubbed" >"$log_dir/stubs.log" 2>&1; then
      show_log "$log_dir/stubs.log"
    fi
    sdir="$cache/stubbed/$rel"
    export TF_DATA_DIR="$cache/tf/stubbed-$name"
    if (cd "$sdir" && terraform init -backend=false -no-color && terraform validate -no-color) >"$log_dir/wiring-$name.log" 2>&1; then
      [ -z "$modules_dir" ] && record PASS "wiring $rel" "validate with registry modules stubbed"
    else
      record FAIL "wiring $rel" "validate with registry modules stubbed"
      show_log "$log_dir/wiring-$name.log"
      continue
    fi
    # tests/ run anywhere (they override the registry modules' outputs); tests-stubbed/ assert
    # on the arguments the stubs received and run only here.
    for tdir in "${stub_tests[@]}"; do
      ls "$sdir/$tdir"/*.tftest.hcl >/dev/null 2>&1 || continue
      tlog="$log_dir/test-$name-$tdir.log"
      if (cd "$sdir" && terraform test -test-directory="$tdir" -no-color) >"$tlog" 2>&1; then
        record PASS "test $rel/$tdir" "(registry stubbed) $(grep -E '^(Success|Failure)!' "$tlog" | tail -n1)"
      else
        record FAIL "test $rel/$tdir" "(registry stubbed) $(grep -E '^(Success|Failure)!' "$tlog" | tail -n1)"
        show_log "$tlog"
      fi
    done
    continue
  fi
  export TF_DATA_DIR="$cache/tf/$name"
  if ! (cd "$dir" && terraform init -backend=false -no-color) >"$log_dir/init-$name.log" 2>&1; then
    record FAIL "init $rel" "terraform init -backend=false"
    show_log "$log_dir/init-$name.log"
    continue
  fi
  # A module declaring configuration_aliases (monitoring: aws.us_east_1) only validates when
  # its caller passes those providers: validate a copy with empty provider blocks added.
  vdir=$dir
  aliases=$(grep -hoE 'configuration_aliases\s*=\s*\[[^]]*\]' "$dir"/*.tf | grep -oE 'aws\.[A-Za-z0-9_]+' | cut -d. -f2 | sort -u)
  if [ -n "$aliases" ]; then
    vdir="$cache/validate/$name"
    rm -rf "$vdir" && mkdir -p "$vdir" && cp "$dir"/*.tf "$vdir"/
    for a in $aliases; do printf 'provider "aws" {\n  alias = "%s"\n}\n' "$a"; done >"$vdir/zz_check_providers.tf"
    (cd "$vdir" && terraform init -backend=false -no-color) >>"$log_dir/init-$name.log" 2>&1
  fi
  if (cd "$vdir" && terraform validate -no-color) >"$log_dir/validate-$name.log" 2>&1; then
    record PASS "validate $rel" "init -backend=false + validate"
  else
    record FAIL "validate $rel" "terraform validate"
    show_log "$log_dir/validate-$name.log"
  fi
  if ls "$dir"/tests/*.tftest.hcl >/dev/null 2>&1; then
    if (cd "$dir" && terraform test -no-color) >"$log_dir/test-$name.log" 2>&1; then
      record PASS "test $rel" "$(grep -E '^(Success|Failure)!' "$log_dir/test-$name.log" | tail -n1)"
    else
      record FAIL "test $rel" "$(grep -E '^(Success|Failure)!' "$log_dir/test-$name.log" | tail -n1)"
      show_log "$log_dir/test-$name.log"
    fi
  fi
done
unset TF_DATA_DIR

for req in "${REQUIRED_TESTS[@]}"; do
  ls "$tf_root/$req"/tests/*.tftest.hcl >/dev/null 2>&1 || record FAIL "test $req" "required terraform tests are missing"
done

# CloudFront Function code (JavaScript) is unit-tested with node where it is installed.
for t in "$tf_root"/modules/*/tests/*_test.js; do
  [ -f "$t" ] || continue
  trel=${t#"$tf_root"/}
  if ! command -v node >/dev/null; then
    record SKIP "js $trel" "node not installed"
  elif node "$t" >"$log_dir/js-$(basename "$t").log" 2>&1; then
    record PASS "js $trel" "$(tail -n1 "$log_dir/js-$(basename "$t").log")"
  else
    record FAIL "js $trel" "node $trel"
    show_log "$log_dir/js-$(basename "$t").log"
  fi
done

# The scripts Terraform runs on apply, against recording stand-ins for docker and aws.
if "$infra/scripts/test_deploy_scripts.sh" >"$log_dir/deploy-scripts.log" 2>&1; then
  record PASS "deploy scripts" "$(tail -n1 "$log_dir/deploy-scripts.log")"
else
  record FAIL "deploy scripts" "scripts/test_deploy_scripts.sh"
  show_log "$log_dir/deploy-scripts.log"
fi

# 4. checkov
skip_file="$infra/checkov-skips.txt"
if [ ! -x "$CHECKOV" ]; then
  "$root/scripts/bootstrap.sh" checkov >/dev/null 2>&1 || true
fi
if [ -x "$CHECKOV" ]; then
  skips=$(grep -vE '^\s*(#|$)' "$skip_file" | awk '{print $1}' | paste -sd, -)
  no_reason=$(grep -vE '^\s*(#|$)' "$skip_file" | awk 'NF < 2 {print $1}' | paste -sd, -)
  if [ -n "$no_reason" ]; then
    record FAIL "checkov skips" "skipped without a reason in checkov-skips.txt: $no_reason"
  fi
  if "$CHECKOV" -d "$infra" --framework terraform --skip-download --quiet --compact \
    --skip-path '\.cache' --skip-check "$skips" -o cli >"$log_dir/checkov.log" 2>&1; then
    record PASS "checkov" "$(grep -Eo 'Passed checks: [0-9]+, Failed checks: [0-9]+' "$log_dir/checkov.log" | head -n1); $(tr ',' '\n' <<<"$skips" | grep -c .) check ids skipped (checkov-skips.txt)"
  else
    record FAIL "checkov" "new findings (not in checkov-skips.txt)"
    grep -E '^Check:|FAILED for|File:' "$log_dir/checkov.log" | sed -e 's/^/    | /' | head -n 60
  fi
else
  record FAIL "checkov" "$CHECKOV missing (scripts/bootstrap.sh checkov)"
fi

# 5. SC-006 line count
# The optional canary (issue 14, beyond the seed specification: modules/canary and
# environments/*/canary.tf) is counted apart: SC-006 is the seeds' criterion for the deployment
# they specify.
sc006_count() { # counts code lines of *.tf: no blank lines, no comments, no variable blocks
  # $1: `base` (everything but the canary) or `canary` (only the canary)
  local sel=(-not -path '*/modules/canary/*' -not -name canary.tf)
  [ "${1:-base}" = canary ] && sel=('(' -path '*/modules/canary/*' -o -name canary.tf ')')
  find "$tf_root" -name '*.tf' -not -path '*/.terraform/*' "${sel[@]}" -print0 | sort -z | xargs -0 awk '
    FNR == 1 { invar = 0; incomment = 0 }
    incomment { if ($0 ~ /\*\//) incomment = 0; next }
    /^[[:space:]]*\/\*/ { if ($0 !~ /\*\//) incomment = 1; next }
    invar { if ($0 ~ /^}/) invar = 0; next }
    /^variable[[:space:]]+"/ { if ($0 !~ /}[[:space:]]*$/) invar = 1; next }
    /^[[:space:]]*$/ { next }
    /^[[:space:]]*(#|\/\/)/ { next }
    { n++ }
    END { print n + 0 }'
}
lines=$(sc006_count)
canary_lines=$(sc006_count canary)
if [ "$lines" -lt "$SC006_LIMIT" ]; then
  record PASS "SC-006 line count" "$lines Terraform lines < $SC006_LIMIT (comments, blanks, variable blocks excluded; the optional canary module's $canary_lines lines counted apart)"
else
  record FAIL "SC-006 line count" "$lines Terraform lines >= $SC006_LIMIT"
fi

echo
echo "== infrastructure checks: summary"
printf '%s\n' "${results[@]}"
if [ "$failed" -ne 0 ]; then
  echo "RESULT: FAILED (logs in ${log_dir#"$root"/})"
  exit 1
fi
echo "RESULT: all checks passed"

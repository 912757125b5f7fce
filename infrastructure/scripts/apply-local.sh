#!/usr/bin/env bash
# apply-local: `terraform apply` and `terraform destroy` of environments/dev into a local moto,
# with the real registry modules (SC-001: apply deploys everything without manual steps;
# SC-005: destroy removes everything, non-empty buckets and ECR images included).
#
#   infrastructure/scripts/apply-local.sh [--export-dir DIR] [--keep]      (or: task test:apply-local)
#
# In a temporary copy of infrastructure/terraform:
#  1. registry modules resolved from TF_MODULES_DIR (default ../shared/terraform-modules beside
#     the repository; TF_MODULES_DIR=registry downloads them from the Terraform registry instead,
#     for a machine with network access); hashicorp/random dropped from elasticache's copy
#     (resolve_registry_modules.py; infrastructure/README.md "Local apply and destroy");
#  2. moto with the project's extensions (tools/motoext) on a free loopback port;
#  3. what an operator's account has before apply (VPC, private subnets, security group, ACM
#     certificate, Route53 zone, SSM parameters, the config object: apply_local.py prereqs);
#  4. terraform init + apply (build_image=false: no Docker here; the client from a small local
#     build), `terraform output -json`;
#     then what it created, normalized (outputs, alarm definitions, the names the sandbox seeds),
#     must equal infrastructure/deployment-shape.json (apply_local.py shape; the sandbox's drift
#     test compares its seed with the same file): each difference is named;
#  5. `opsconsole probe --only alarms,lambda,redis,cloudfront` against moto: the 10 alarms
#     present, nothing MISSING, no finding;
#  6. an object into each bucket and an image into ECR; `opsconsole leftovers` must see the
#     deployment (exit 1); then terraform destroy;
#  7. nothing left: every resource of the applied state is gone and the Resource Groups Tagging
#     API lists no tagged resource but the prerequisites; `opsconsole leftovers dev` exits 0.
# Last line: `apply-local: N created, N destroyed, 0 left`. A failure names the resource and the
# cause. Without TF_MODULES_DIR: says why it is skipped and exits 0.
#
# Options / environment:
#   --export-dir DIR | APPLY_LOCAL_EXPORT_DIR   write resources.json, outputs.json, alarms.json,
#                       summary.json (format: infrastructure/README.md) for the sandbox drift test
#   --write-shape | APPLY_LOCAL_WRITE_SHAPE=1  write infrastructure/deployment-shape.json from this
#                       apply instead of comparing with it (after a deliberate Terraform change)
#   --keep | APPLY_LOCAL_KEEP=1                keep the work directory (logs, state) and say where
#   OPSCONSOLE=/path/to/opsconsole             the console binary (default: cargo run -q -p opsconsole --)
#   MOTOEXT_DISABLE=name,...                   start moto without these extensions (to see what they fill)
set -uo pipefail

infra=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$infra/.." && pwd)
export_dir=${APPLY_LOCAL_EXPORT_DIR:-}
keep=${APPLY_LOCAL_KEEP:-0}
write_shape=${APPLY_LOCAL_WRITE_SHAPE:-0}
while [ $# -gt 0 ]; do
  case "$1" in
    --export-dir) export_dir=${2:?--export-dir needs a directory}; shift 2 ;;
    --export-dir=*) export_dir=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    --write-shape) write_shape=1; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "apply-local: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$export_dir" ] && export_dir=$(mkdir -p "$export_dir" && cd "$export_dir" && pwd)

modules_dir=${TF_MODULES_DIR:-$root/../shared/terraform-modules}
if [ "$modules_dir" != registry ] && [ ! -d "$modules_dir" ]; then
  echo "apply-local: skipped: TF_MODULES_DIR not found ($modules_dir): the pinned terraform-aws-modules"
  echo "apply-local: copies are needed offline (../shared/terraform-modules beside the clone), or"
  echo "apply-local: TF_MODULES_DIR=registry on a machine that reaches the Terraform registry."
  exit 0
fi
venv="$root/.tools/venv"
for tool in "$venv/bin/python" "$venv/bin/aws" terraform; do
  command -v "$tool" >/dev/null || { echo "apply-local: $tool not found: run scripts/bootstrap.sh (installs .tools/venv) and install terraform" >&2; exit 2; }
done
py="$venv/bin/python"

started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/apply-local.XXXXXX")
logs="$work/logs"
mkdir -p "$logs"
moto_pid=
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null; fi
  if [ "$keep" = 1 ]; then echo "apply-local: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timings=()
phase_start=$SECONDS
phase_done() { timings+=("$1 $((SECONDS - phase_start))s"); phase_start=$SECONDS; }
fail() { # phase log [message]: name what failed, the resources and causes, the log's tail
  echo "apply-local: FAILED in $1${3:+: $3}" >&2
  if [ -f "$2" ]; then
    "$py" "$infra/scripts/apply_local.py" tf-errors "$2" | sed -e 's/^/apply-local:   /' >&2
    echo "apply-local: last lines of $(basename "$2"):" >&2
    tail -n 25 "$2" | sed -e 's/^/    | /' >&2
  fi
  keep=1
  exit 1
}

# 1. The configuration with the registry modules resolved, where it sits in the repository
# (modules/backend hashes Cargo.*, shim/ and its docker/ dir from ../../../.. for the image tag)
mkdir -p "$work/repo/infrastructure"
for f in Cargo.toml Cargo.lock shim; do ln -s "$root/$f" "$work/repo/$f"; done
tf="$work/repo/infrastructure/terraform"
if [ "$modules_dir" = registry ]; then
  cp -r "$infra/terraform" "$tf" && rm -rf "$tf"/environments/*/.terraform
else
  "$py" "$infra/scripts/resolve_registry_modules.py" "$infra/terraform" "$tf" "$modules_dir" >"$logs/resolve.log" 2>&1 \
    || fail "resolving the registry modules" "$logs/resolve.log" "$(tail -n1 "$logs/resolve.log")"
  export TF_CLI_CONFIG_FILE="$infra/terraform.rc" # the offline provider mirror
fi
env_dir="$tf/environments/dev"
mkdir -p "$infra/.cache/plugins"
export TF_PLUGIN_CACHE_DIR="$infra/.cache/plugins" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
unset TF_WORKSPACE TF_DATA_DIR AWS_PROFILE AWS_SESSION_TOKEN
phase_done resolve

# 2. moto with the extensions, on a free loopback port (the server binds port 0 and reports it)
PYTHONPATH="$root/tools/motoext${PYTHONPATH:+:$PYTHONPATH}" "$py" -m motoext.server -H 127.0.0.1 -p 0 \
  --port-file "$work/moto.port" ${MOTOEXT_DISABLE:+--disable "$MOTOEXT_DISABLE"} >"$logs/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  [ -s "$work/moto.port" ] && break
  kill -0 "$moto_pid" 2>/dev/null || fail "starting moto" "$logs/moto.log"
  sleep 0.1
done
[ -s "$work/moto.port" ] || fail "starting moto" "$logs/moto.log" "no port after 10 s"
endpoint="http://127.0.0.1:$(cat "$work/moto.port")"
export AWS_ACCESS_KEY_ID=apply-local AWS_SECRET_ACCESS_KEY=apply-local AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1
export AWS_ENDPOINT_URL="$endpoint" AWS_SHARED_CREDENTIALS_FILE="$work/no-credentials" AWS_CONFIG_FILE="$work/aws-config"
printf '[default]\nregion = eu-west-1\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
export PATH="$venv/bin:$PATH" # upload.sh runs the project's aws CLI against moto
phase_done moto

# 3. The operator's prerequisites, and the variables that point at them
"$py" "$infra/scripts/apply_local.py" prereqs --endpoint "$endpoint" "$env_dir/terraform.tfvars.json" \
  "$work/apply-local.tfvars.json" --dist "$work/client-dist" >"$logs/prereqs.log" 2>&1 \
  || fail "creating the prerequisites" "$logs/prereqs.log" "$(tail -n1 "$logs/prereqs.log")"
sed -e 's/^/apply-local: /' "$logs/prereqs.log"
phase_done prereqs

# Every AWS endpoint of both providers at moto; no retries of moto's 500s (an unimplemented call
# must fail fast, not after minutes); state in the work directory.
services="acm apigateway cloudfront cloudwatch ec2 ecr elasticache iam lambda logs resourcegroupstaggingapi route53 s3 scheduler sns ssm sts"
endpoints=$(for s in $services; do printf '    %s = "%s"\n' "$s" "$endpoint"; done)
provider_overrides() { # alias-line
  cat <<EOF
provider "aws" {
$1
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  max_retries                 = 1
  endpoints {
$endpoints
  }
}
EOF
}
{
  printf 'terraform {\n  backend "local" {\n    path = "%s"\n  }\n}\n' "$work/terraform.tfstate"
  provider_overrides ""
  provider_overrides '  alias = "us_east_1"'
} >"$env_dir/zz_apply_local_override.tf"

# Terraform and the AWS provider (700 MB, started for every walk and provider alias: about 12
# times per run) spend half their start-up CPU in the Go garbage collector; without it until
# 1 GiB each, a start costs 2.5 s of CPU instead of 5 (measured with `providers schema -json`).
tfc() { GOGC=off GOMEMLIMIT=1GiB terraform -chdir="$env_dir" "$@"; }

# 4. init + apply
tfc init -no-color >"$logs/init.log" 2>&1 || fail "terraform init" "$logs/init.log"
phase_done init
tfc apply -auto-approve -no-color -var-file="$work/apply-local.tfvars.json" >"$logs/apply.log" 2>&1 \
  || fail "terraform apply" "$logs/apply.log"
grep -E '^Apply complete!' "$logs/apply.log" | sed -e 's/^/apply-local: /'
tfc output -json >"$work/outputs.json" 2>"$logs/output.log" || fail "terraform output -json" "$logs/output.log"
cp "$work/terraform.tfstate" "$work/state-applied.json"
created=$("$py" "$infra/scripts/apply_local.py" count "$work/state-applied.json")
phase_done apply

# 4b. What apply created, normalized, against the committed shape (the sandbox seeds the same)
shape_file="$infra/deployment-shape.json"
tf_env=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["environment"])' "$env_dir/terraform.tfvars.json")
if [ "$write_shape" = 1 ]; then
  "$py" "$infra/scripts/apply_local.py" shape --endpoint "$endpoint" "$work/outputs.json" --env "$tf_env" \
    --write "$shape_file" >"$logs/shape.log" 2>&1 || fail "writing the deployment shape" "$logs/shape.log" "$(tail -n1 "$logs/shape.log")"
else
  "$py" "$infra/scripts/apply_local.py" shape --endpoint "$endpoint" "$work/outputs.json" --env "$tf_env" \
    --check "$shape_file" --actual "$work/deployment-shape.actual.json" >"$logs/shape.log" 2>&1 || {
    grep -E '^apply-local: ' "$logs/shape.log" >&2
    fail "the deployment shape" "$logs/shape.log" "what apply created differs from ${shape_file#"$root"/} (found: $work/deployment-shape.actual.json)"
  }
fi
sed -e 's/^/apply-local: /' "$logs/shape.log"
phase_done shape

if [ -n "$export_dir" ]; then
  "$py" "$infra/scripts/apply_local.py" export --endpoint "$endpoint" "$work/state-applied.json" \
    "$work/outputs.json" "$export_dir" >"$logs/export.log" 2>&1 || fail "export" "$logs/export.log" "$(tail -n1 "$logs/export.log")"
  sed -e 's/^/apply-local: /' "$logs/export.log"
fi

# 5. The console's probe against what was applied
if [ -n "${OPSCONSOLE:-}" ]; then
  console=("$OPSCONSOLE")
else
  console=(cargo run -q --manifest-path "$root/Cargo.toml" -p opsconsole --)
fi
XDG_CONFIG_HOME="$work/xdg" "${console[@]}" probe dev --json --only alarms,lambda,redis,cloudfront \
  --outputs "$work/outputs.json" --endpoint-url "$endpoint" --timeout 60 >"$work/probe.json" 2>"$logs/probe.log"
probe_rc=$?
"$py" "$infra/scripts/apply_local.py" check-probe "$work/probe.json" "$work/outputs.json" >"$logs/check-probe.log" 2>&1 \
  || fail "opsconsole probe (exit $probe_rc)" "$logs/check-probe.log" "$(grep -m1 'apply-local:' "$logs/check-probe.log" | sed -e 's/^apply-local: //')"
sed -e 's/^/apply-local: /' "$logs/check-probe.log"
phase_done probe

# 6. SC-005: non-empty buckets and an ECR image, then destroy
"$py" "$infra/scripts/apply_local.py" fill --endpoint "$endpoint" "$work/outputs.json" >"$logs/fill.log" 2>&1 \
  || fail "filling the buckets and the repository" "$logs/fill.log" "$(tail -n1 "$logs/fill.log")"
sed -e 's/^/apply-local: /' "$logs/fill.log"
# `opsconsole leftovers` before the destroy must see the deployment (exit 1): proof that the
# clean answer after the destroy (step 7) comes from checks that can see these resources.
leftovers_console() {
  XDG_CONFIG_HOME="$work/xdg" "${console[@]}" leftovers dev --json --outputs "$work/outputs.json" \
    --endpoint-url "$endpoint" --timeout 60 >"$work/leftovers-$1.json" 2>"$logs/leftovers-$1.log"
}
leftovers_console before
before_rc=$?
seen=$("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(sorted({l["kind"] for l in d["leftovers"]})), len(d["leftovers"]))' \
  "$work/leftovers-before.json" 2>>"$logs/leftovers-before.log")
[ "$before_rc" = 1 ] || fail "opsconsole leftovers before the destroy (exit $before_rc, expected 1: it must see the deployment)" \
  "$logs/leftovers-before.log" "$seen"
echo "apply-local: before destroy, opsconsole leftovers sees: ${seen}"
# -refresh=false: the state is the one apply wrote a minute ago; a refresh would cost one more
# walk (two provider starts) and read back the same 43 resources.
tfc destroy -auto-approve -refresh=false -no-color -var-file="$work/apply-local.tfvars.json" >"$logs/destroy.log" 2>&1 \
  || fail "terraform destroy" "$logs/destroy.log"
destroyed=$(grep -oE '^Destroy complete! Resources: [0-9]+ destroyed' "$logs/destroy.log" | grep -oE '[0-9]+')
in_state=$("$py" "$infra/scripts/apply_local.py" count "$work/terraform.tfstate")
phase_done destroy

# 7. Nothing left
"$py" "$infra/scripts/apply_local.py" leftovers --endpoint "$endpoint" "$work/state-applied.json" \
  "$work/apply-local.tfvars.prereqs.json" --count-file "$work/left" >"$logs/leftovers.log" 2>&1
leftovers_rc=$?
left=$(cat "$work/left" 2>/dev/null || echo "?")
sed -e 's/^/apply-local: /' -e 's/^apply-local: apply-local: /apply-local: /' "$logs/leftovers.log"
# ... and the console's own check (tags + names from the outputs): exit 0 = nothing left.
leftovers_console after
console_rc=$?
if [ "$console_rc" != 0 ]; then
  echo "apply-local: opsconsole leftovers after the destroy: exit $console_rc ($work/leftovers-after.json)" >&2
  "$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); [print("apply-local: left (opsconsole):", l["kind"], l["id"], l["detail"]) for l in d.get("leftovers", [])]; [print("apply-local: check failed (opsconsole):", e["check"], e["message"]) for e in d.get("errors", [])]' \
    "$work/leftovers-after.json" >&2 || tail -n 5 "$logs/leftovers-after.log" >&2
  leftovers_rc=1
  [ "$left" = 0 ] && left="?"
else
  echo "apply-local: opsconsole leftovers after the destroy: nothing left (exit 0)"
fi
phase_done leftovers

timing="$(printf '%s, ' "${timings[@]}")total $((SECONDS - started))s"
echo "apply-local: timing: ${timing}"
if [ -n "$export_dir" ]; then
  printf '{\n  "created": %s,\n  "destroyed": %s,\n  "left": %s,\n  "timing": "%s"\n}\n' \
    "$created" "${destroyed:-null}" "${left/\?/null}" "$timing" >"$export_dir/summary.json"
fi
if [ "$leftovers_rc" -ne 0 ] || [ "$in_state" != 0 ] || [ "${destroyed:-x}" != "$created" ]; then
  [ "$in_state" != 0 ] && echo "apply-local: $in_state resources still in the state after destroy" >&2
  [ "${destroyed:-x}" != "$created" ] && echo "apply-local: destroy reported ${destroyed:-no count}, apply created $created" >&2
  keep=1
  echo "apply-local: ${created} created, ${destroyed:-0} destroyed, ${left} left"
  exit 1
fi
echo "apply-local: ${created} created, ${destroyed} destroyed, ${left} left"

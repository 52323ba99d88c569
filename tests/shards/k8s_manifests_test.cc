// deploy/k8s/: the Indexed Job of shards and the merge Job, checked against the fields of the
// Kubernetes batch/v1 Job and core/v1 PodSpec they use (kubectl needs a server even for a
// client dry run, so the schema is checked here): known keys only at each level, the types
// Kubernetes wants, and the wiring faultline needs (JOB_COMPLETION_INDEX -> --shard i/N with
// N == completions == parallelism, the merge over the shards' volume).
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

namespace {

const std::string kDir = std::string(FAULTLINE_SOURCE_DIR) + "/deploy/k8s/";

// Every key of `node` is one of `known` (a typo such as "completionmode" is silently
// ignored by a server with --validate=false, and fails here).
void check_keys(const YAML::Node& node, const std::set<std::string>& known, const char* where) {
  REQUIRE(node.IsMap());
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>();
    INFO(where << ": " << k);
    CHECK(known.count(k) == 1);
  }
}

void check_pod(const YAML::Node& pod) {
  check_keys(pod, {"restartPolicy", "containers", "volumes"}, "PodSpec");
  CHECK(pod["restartPolicy"].as<std::string>() == "Never");  // Jobs allow Never or OnFailure
  std::set<std::string> volumes;
  for (const auto& v : pod["volumes"]) {
    check_keys(v, {"name", "configMap", "persistentVolumeClaim"}, "Volume");
    volumes.insert(v["name"].as<std::string>());
  }
  REQUIRE(pod["containers"].IsSequence());
  for (const auto& c : pod["containers"]) {
    check_keys(c, {"name", "image", "command", "args", "env", "resources", "volumeMounts"},
               "Container");
    CHECK(c["command"].IsSequence());
    CHECK(c["args"].IsSequence());
    for (const auto& m : c["volumeMounts"]) {
      check_keys(m, {"name", "mountPath", "readOnly"}, "VolumeMount");
      CHECK(volumes.count(m["name"].as<std::string>()) == 1);
    }
  }
}

YAML::Node check_job(const YAML::Node& doc) {
  check_keys(doc, {"apiVersion", "kind", "metadata", "spec"}, "Job");
  CHECK(doc["apiVersion"].as<std::string>() == "batch/v1");
  CHECK(doc["kind"].as<std::string>() == "Job");
  const YAML::Node spec = doc["spec"];
  check_keys(spec, {"completionMode", "completions", "parallelism", "backoffLimit", "template"},
             "JobSpec");
  check_keys(spec["template"], {"metadata", "spec"}, "PodTemplateSpec");
  check_pod(spec["template"]["spec"]);
  return spec;
}

}  // namespace

TEST_CASE("the shards job is an Indexed Job whose index becomes --shard i/N") {
  const YAML::Node doc = YAML::LoadFile(kDir + "shards-job.yaml");
  const YAML::Node spec = check_job(doc);
  CHECK(spec["completionMode"].as<std::string>() == "Indexed");
  const int n = spec["completions"].as<int>();
  CHECK(n >= 1);
  CHECK(spec["parallelism"].as<int>() == n);  // the shards split one load: all at once
  const std::string args = spec["template"]["spec"]["containers"][0]["args"][0].as<std::string>();
  CHECK(args.find("faultline run") != std::string::npos);
  CHECK(args.find("--shard \"${JOB_COMPLETION_INDEX}/" + std::to_string(n) + "\"") !=
        std::string::npos);
  CHECK(args.find("--artifacts \"/artifacts/") != std::string::npos);
}

TEST_CASE("the merge job merges the shards from the shared volume") {
  const YAML::Node doc = YAML::LoadFile(kDir + "merge-job.yaml");
  const YAML::Node spec = check_job(doc);
  CHECK_FALSE(spec["completionMode"]);
  const std::string args = spec["template"]["spec"]["containers"][0]["args"][0].as<std::string>();
  CHECK(args.find("faultline merge /artifacts/${RUN_ID}/shard-*/") != std::string::npos);
  const YAML::Node shards = YAML::LoadFile(kDir + "shards-job.yaml");
  CHECK(shards["spec"]["template"]["spec"]["volumes"][1]["persistentVolumeClaim"]["claimName"]
            .as<std::string>() ==
        spec["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
            .as<std::string>());
  const YAML::Node pvc = YAML::LoadFile(kDir + "artifacts-pvc.yaml");
  CHECK(pvc["kind"].as<std::string>() == "PersistentVolumeClaim");
  CHECK(pvc["metadata"]["name"].as<std::string>() ==
        spec["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
            .as<std::string>());
}

// The nightly workflow (.github/workflows/nightly-chaos.yml) runs only commands that exist and
// that README.md's "Nightly matrix" section documents. A renamed flag or make target, or a
// command added to the workflow without its README line, fails here rather than at 03:17.
//
// Commands are read from every step's `run:` script: lines continued with "\" are joined and
// split into shell words (quotes respected). A word ending in "/faultline" starts a faultline
// command (its next word is the subcommand, then its --flags); the word "make" starts a make
// command (its words that are neither options nor VAR=value are targets). Both only in command
// position: first on the line or after ; then else do && || |.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Splits a line into shell words: whitespace separates, ';' is a word of its own, '...' and
// "..." group (quotes removed), '#' at the start of a word ends the line.
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == ';') {
      if (in_word) words.push_back(word);
      if (c == ';') words.push_back(";");
      word.clear();
      in_word = false;
    } else if (c == '#' && !in_word) {
      break;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

struct Commands {
  std::map<std::string, std::set<std::string>> faultline;  // subcommand -> flags used
  std::set<std::string> make_targets;
};

void collect(const std::string& script, Commands* out) {
  std::string joined;
  std::istringstream lines(script);
  std::string line;
  std::vector<std::string> logical;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\\') {
      joined += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    logical.push_back(joined + line);
    joined.clear();
  }
  if (!joined.empty()) logical.push_back(joined);
  for (const auto& l : logical) {
    const auto words = shell_words(l);
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      // Only a word in command position runs something ("install x build/.../faultline" does
      // not run faultline, "apt-get install make" does not run make).
      static const std::set<std::string> kSeparators = {";", "then", "else", "do", "&&", "||", "|"};
      if (i > 0 && !kSeparators.count(words[i - 1])) continue;
      if (w.size() >= 10 && w.compare(w.size() - 10, 10, "/faultline") == 0 &&
          i + 1 < words.size()) {
        auto& flags = out->faultline[words[i + 1]];
        for (size_t j = i + 2; j < words.size() && words[j] != "|" && words[j] != ">"; ++j)
          if (words[j].rfind("--", 0) == 0) flags.insert(words[j].substr(0, words[j].find('=')));
      } else if (w == "make") {
        for (size_t j = i + 1; j < words.size() && words[j] != "&&"; ++j)
          if (words[j][0] != '-' && words[j].find('=') == std::string::npos)
            out->make_targets.insert(words[j]);
      }
    }
  }
}

Commands workflow_commands(const std::string& path) {
  const YAML::Node doc = YAML::LoadFile(path);
  Commands out;
  for (const auto& job : doc["jobs"])
    for (const auto& step : job.second["steps"])
      if (step["run"]) collect(step["run"].as<std::string>(), &out);
  return out;
}

std::string help_of(const std::string& subcommand) {
  std::string out;
  const std::string cmd = std::string(FAULTLINE_CLI) + " " + subcommand + " --help 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  CHECK_MESSAGE(status == 0, "faultline " << subcommand << " --help failed: " << out);
  return out;
}

// True when `flag` appears in `text` as a whole flag (not as the prefix of a longer one).
bool mentions_flag(const std::string& text, const std::string& flag) {
  for (size_t pos = text.find(flag); pos != std::string::npos; pos = text.find(flag, pos + 1)) {
    const size_t end = pos + flag.size();
    const char next = end < text.size() ? text[end] : ' ';
    if (!(std::isalnum(static_cast<unsigned char>(next)) || next == '-' || next == '_'))
      return true;
  }
  return false;
}

// README.md's "## Nightly matrix" section, up to the next "## " heading.
std::string readme_section(const std::string& readme, const std::string& heading) {
  const size_t start = readme.find("\n## " + heading + "\n");
  if (start == std::string::npos) return "";
  const size_t end = readme.find("\n## ", start + 1);
  return readme.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

const std::string kWorkflow = FAULTLINE_SOURCE_DIR "/.github/workflows/nightly-chaos.yml";

}  // namespace

TEST_CASE("workflow commands: the parser finds faultline subcommands, flags and make targets") {
  Commands c;
  collect(
      "make configure\ncmake --build build --target x\n"
      "build/engine/cli/faultline run specs/a.yaml --seed=3 \\\n  --push \"$URL\" # --not-this\n"
      "if [ -n \"$X\" ]; then ./build/engine/cli/faultline matrix m.yaml --list --format json "
      "> cells.json; fi\n",
      &c);
  CHECK(c.make_targets == std::set<std::string>{"configure"});
  CHECK(c.faultline["run"] == std::set<std::string>{"--seed", "--push"});
  CHECK(c.faultline["matrix"] == std::set<std::string>{"--list", "--format"});
  CHECK(c.faultline.size() == 2);
}

TEST_CASE("workflow commands: every faultline command and flag of the nightly workflow exists") {
  const Commands c = workflow_commands(kWorkflow);
  REQUIRE_MESSAGE(c.faultline.count("matrix"), "the workflow does not run faultline matrix");
  for (const auto& [sub, flags] : c.faultline) {
    const std::string help = help_of(sub);
    for (const auto& flag : flags)
      CHECK_MESSAGE(mentions_flag(help, flag), "faultline " << sub << " --help has no " << flag);
  }
}

TEST_CASE("workflow commands: every make target of the nightly workflow is in the Makefile") {
  const Commands c = workflow_commands(kWorkflow);
  REQUIRE_FALSE(c.make_targets.empty());
  const std::string makefile = "\n" + read_file(FAULTLINE_SOURCE_DIR "/Makefile");
  for (const auto& target : c.make_targets)
    CHECK_MESSAGE(makefile.find("\n" + target + ":") != std::string::npos,
                  "Makefile has no target " << target);
}

TEST_CASE("workflow commands: README's Nightly matrix section documents every command and flag") {
  const Commands c = workflow_commands(kWorkflow);
  const std::string section =
      readme_section(read_file(FAULTLINE_SOURCE_DIR "/README.md"), "Nightly matrix");
  REQUIRE_MESSAGE(!section.empty(), "README.md has no \"## Nightly matrix\" section");
  CHECK(section.find("nightly-chaos.yml") != std::string::npos);
  for (const auto& [sub, flags] : c.faultline) {
    CHECK_MESSAGE(section.find("faultline " + sub) != std::string::npos,
                  "README's Nightly matrix section does not show faultline " << sub);
    for (const auto& flag : flags)
      CHECK_MESSAGE(mentions_flag(section, flag),
                    "README's Nightly matrix section does not mention " << flag);
  }
  for (const auto& target : c.make_targets)
    CHECK_MESSAGE(section.find("make " + target) != std::string::npos,
                  "README's Nightly matrix section does not show make " << target);
}

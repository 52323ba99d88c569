#include "observe/error_signatures.h"

#include <algorithm>

namespace faultline::observe {

void ErrorSignatures::add(std::string_view signature, std::string_view request_id, uint64_t n) {
  if (n == 0) return;
  if (signature.size() > kMaxSignatureBytes) {
    // Cut on a UTF-8 character boundary so the report stays valid text.
    size_t cut = kMaxSignatureBytes;
    while (cut > 0 && (static_cast<unsigned char>(signature[cut]) & 0xc0) == 0x80) --cut;
    signature = signature.substr(0, cut);
  }
  total_ += n;
  auto it = entries_.find(signature);
  if (it == entries_.end()) {
    // kOther does not take one of the max_distinct places.
    const size_t tracked = entries_.size() - (entries_.count(kOther) ? 1 : 0);
    if (tracked >= max_distinct_) signature = kOther;
    it = entries_.find(signature);
    if (it == entries_.end()) {
      it = entries_.emplace(std::string(signature), Entry{std::string(signature), 0, ""}).first;
      it->second.first_request_id = std::string(request_id);
    }
  }
  it->second.count += n;
}

void ErrorSignatures::merge(const ErrorSignatures& other) {
  for (const auto& [signature, e] : other.entries_) add(signature, e.first_request_id, e.count);
}

std::vector<ErrorSignatures::Entry> ErrorSignatures::most_frequent() const {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const auto& [signature, e] : entries_) out.push_back(e);
  std::stable_sort(out.begin(), out.end(),
                   [](const Entry& a, const Entry& b) { return a.count > b.count; });
  return out;
}

}  // namespace faultline::observe

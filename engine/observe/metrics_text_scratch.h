// MetricsTextScratch: the working memory of one MetricsTextParser (metrics_text_parser.h), kept
// from one parse to the next so that a scraper in its steady state allocates little besides the
// Exposition it returns. Internal to the parser: only metrics_text_parser.cc reads or writes it.
//
// Invariants between parses: `labels` and `unescaped` hold nothing of value; `series` and the
// tables in use describe the last scrape only until the next parse clears them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace faultline::observe {

struct MetricsTextScratch {
  // One label of the sample being read: views into the scrape text, or into `unescaped` when
  // the value had escapes (then `unescaped` is its index there, else -1).
  struct LabelView {
    std::string_view name;
    std::string_view value;
    int unescaped = -1;
  };
  // A series kept in the current scrape: the hash of its labels (its name has its own table)
  // and where its sample is in the Exposition (family index, sample index).
  struct Series {
    uint64_t hash;
    uint32_t family;
    uint32_t sample;
  };
  // A slot of a NameTable: the hash's high half (most mismatches end here without touching
  // `series`) and the index in `series`, kEmptySlot if free.
  struct SeriesSlot {
    uint32_t tag;
    uint32_t index;
  };
  static constexpr uint32_t kEmptySlot = UINT32_MAX;
  // The series kept under one sample name, hashed by their labels: open addressing, the size a
  // power of two, at most half full. One table per name rather than one for the scrape, because
  // an exposition lists a name's samples together: the table in use stays in the cache.
  struct NameTable {
    std::vector<SeriesSlot> slots;
    size_t used = 0;
  };

  std::vector<LabelView> labels;       // of the sample being read
  std::vector<std::string> unescaped;  // label values of that sample that had escapes
  std::vector<Series> series;          // of the current scrape, in the order they were kept
  // A parse uses tables from the front (as many as its scrape has sample names); the others
  // only keep their memory for later scrapes.
  std::vector<NameTable> tables;
  std::vector<SeriesSlot> spare_slots;  // the buffer a NameTable grows into
  // Sample name -> index in `tables`. The names are views into the text being parsed: stale
  // once parse() returns, and cleared before the next parse reads them.
  std::unordered_map<std::string_view, uint32_t> table_of_name;
};

}  // namespace faultline::observe

# observe: what the run saw. Server side: the Prometheus text parser, the scrape store and
# histogram_quantile. Client side: latency histograms, top-k, error signatures, ClientStats.
# Recordings: the raw sample log and scrape log (gzip, hence zlib).
find_package(ZLIB REQUIRED)
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/client_stats.cc
  ${CMAKE_CURRENT_LIST_DIR}/error_signatures.cc
  ${CMAKE_CURRENT_LIST_DIR}/gz_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/histogram_quantile.cc
  ${CMAKE_CURRENT_LIST_DIR}/label_matcher.cc
  ${CMAKE_CURRENT_LIST_DIR}/latency_histogram.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics_text_parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/sample_log.cc
  ${CMAKE_CURRENT_LIST_DIR}/scrape_log.cc
  ${CMAKE_CURRENT_LIST_DIR}/scrape_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/slowest_requests.cc
  ${CMAKE_CURRENT_LIST_DIR}/utf8.cc
)
target_link_libraries(faultline PRIVATE ZLIB::ZLIB)

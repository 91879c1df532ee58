#include "gemm_tuning.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace nntrain {

namespace {

struct Trials {
  bool model_transposed;
  int started = 0;                     // calls handed out, the untimed first one included
  int timed[2] = {0, 0};               // trials reported, per way round
  double best[2] = {0.0, 0.0}, worst[2] = {0.0, 0.0};
  int settled = -1;
};

// At most this many shapes are remembered (a program that multiplies ever new shapes stops timing new ones).
constexpr std::size_t kMaxShapes = 4096;

std::mutex g_mutex;
std::map<GemmShapeKey, Trials> g_trials;

// Trial i runs the model's way for i = 0, 3, 4, 7, ... and the other for i = 1, 2, 5, 6, ...
bool trial_transposed(int i, bool model) { return ((i + 1) / 2) % 2 == 1 ? !model : model; }

void settle_if_done(Trials& t) {
  const int model = t.model_transposed ? 1 : 0, other = 1 - model;
  if (t.timed[0] < kTrialsPerWay || t.timed[1] < kTrialsPerWay) return;
  // every call the other way beat every call the model's way: a burst of load on one call (another
  // library's threads still spinning after its own call) cannot turn a product for the rest of the process
  t.settled = t.worst[other] < (1.0 - kTurnMargin) * t.best[model] ? other : model;
}

}  // namespace

bool GemmShapeKey::operator<(const GemmShapeKey& o) const {
  return std::tie(M, N, K, trans_a, trans_b, threads, element_bytes, isa) <
         std::tie(o.M, o.N, o.K, o.trans_a, o.trans_b, o.threads, o.element_bytes, o.isa);
}

OrientationTrial next_orientation(const GemmShapeKey& key, bool model_transposed) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_trials.find(key);
  if (it == g_trials.end()) {
    if (g_trials.size() >= kMaxShapes) return {model_transposed, false};
    it = g_trials.emplace(key, Trials{model_transposed}).first;
  }
  Trials& t = it->second;
  if (t.settled >= 0) return {t.settled == 1, false};
  // the first call warms the caches, the thread team and the scratch buffers for whichever way runs next
  if (t.started++ == 0) return {t.model_transposed, false};
  return {trial_transposed(t.started - 2, t.model_transposed), true};
}

void record_orientation_seconds(const GemmShapeKey& key, bool transposed, double seconds) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_trials.find(key);
  if (it == g_trials.end() || it->second.settled >= 0) return;
  Trials& t = it->second;
  const int way = transposed ? 1 : 0;
  t.best[way] = t.timed[way] == 0 ? seconds : std::min(t.best[way], seconds);
  t.worst[way] = std::max(t.worst[way], seconds);
  ++t.timed[way];
  settle_if_done(t);
}

bool settled_orientation(const GemmShapeKey& key, bool model_transposed) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_trials.find(key);
  return it == g_trials.end() || it->second.settled < 0 ? model_transposed : it->second.settled == 1;
}

std::vector<OrientationRecord> orientation_records() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<OrientationRecord> out;
  for (const auto& [key, t] : g_trials)
    out.push_back({key, t.model_transposed, {t.best[0], t.best[1]}, t.settled});
  return out;
}

void clear_orientation_records() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_trials.clear();
}

}  // namespace nntrain

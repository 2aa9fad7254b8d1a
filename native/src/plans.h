// The native backend's one plan cache: every oneDNN primitive (and its memory descriptors) is
// planned once per key — the kind of plan plus the geometry — and kept for the process, through
// this one function under one lock (a map per plan type).
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace resnext {

// The lock every planning and planned call holds (only the JavaScript thread calls in; the lock
// keeps the shared scratch buffers and the layout table consistent should that change).
std::recursive_mutex& planLock();

// The plan under `key`, made by `make()` on first use. The reference stays valid for the process.
template <typename Plan, typename Make>
Plan& cachedPlan(const std::string& key, Make make) {
  static std::unordered_map<std::string, std::unique_ptr<Plan>> plans;
  std::lock_guard<std::recursive_mutex> lock(planLock());
  auto it = plans.find(key);
  if (it == plans.end()) it = plans.emplace(key, std::make_unique<Plan>(make())).first;
  return *it->second;
}

}  // namespace resnext

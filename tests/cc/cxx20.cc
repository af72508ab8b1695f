// cxx20: C++20 with threads, std::filesystem and iostream. Compiled against
// a sysroot's libstdc++ headers, the GLIBCXX_ versions it needs are capped
// by that sysroot's libstdc++.so.6.
#include <gnu/libc-version.h>

#include <filesystem>
#include <iostream>
#include <numeric>
#include <ranges>
#include <span>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::vector<int> squares(4);
  std::vector<std::jthread> workers;
  for (int i = 0; i < 4; i++) workers.emplace_back([&squares, i] { squares[i] = i * i; });
  workers.clear();  // jthread joins
  auto evens = squares | std::views::filter([](int x) { return x % 2 == 0; });
  int sum = std::accumulate(evens.begin(), evens.end(), 0);
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  std::cout << "glibc " << gnu_get_libc_version() << ", c++ " << __cplusplus
            << ", sum " << sum << ", self " << self.filename().string()
            << ", args " << std::span(argv, argc).size() << std::endl;
  return 0;
}

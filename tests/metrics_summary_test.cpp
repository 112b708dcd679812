#include <limits>

#include <gtest/gtest.h>

#include "mtcache/cli/metrics_summary.hpp"

using namespace mtcache::cli;

TEST(MetricsSummary, ParsesSamplesWithEscapedLabels) {
  auto samples = parse_exposition("# HELP x y\n# TYPE x counter\n"
                                  "x{cache=\"a\\\"b\",le=\"+Inf\"} 3\nplain 2.5\n");
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].labels.at("cache"), "a\"b");
  EXPECT_EQ((*samples)[0].value, 3);
  EXPECT_EQ((*samples)[1].name, "plain");
  EXPECT_EQ((*samples)[1].value, 2.5);
}

TEST(MetricsSummary, RefusesLinesThatAreNoSamples) {
  EXPECT_FALSE(parse_exposition("x{cache=\"a\" 3\n"));
  EXPECT_FALSE(parse_exposition("x nope\n"));
}

TEST(MetricsSummary, QuantilesInterpolateInsideTheBucket) {
  // 10 observations <= 1, 10 more <= 2.
  std::vector<std::pair<double, double>> b{
      {1, 10}, {2, 20}, {std::numeric_limits<double>::infinity(), 20}};
  EXPECT_DOUBLE_EQ(bucket_quantile(0.5, b), 1);
  EXPECT_DOUBLE_EQ(bucket_quantile(0.75, b), 1.5);
  EXPECT_EQ(bucket_quantile(0.5, {{1, 0}, {std::numeric_limits<double>::infinity(), 0}}), -1);
}

TEST(MetricsSummary, SummarisesHitRatioAndTiers) {
  auto samples =
      parse_exposition("mtcache_gets_total{cache=\"a\",result=\"hit\",tier=\"1\"} 9\n"
                       "mtcache_gets_total{cache=\"a\",result=\"miss\"} 1\n"
                       "mtcache_tier_up{cache=\"a\",tier=\"1\",backend=\"memory\"} 1\n"
                       "mtcache_tier_entries{cache=\"a\",tier=\"1\",backend=\"memory\"} 4\n");
  ASSERT_TRUE(samples);
  auto text = summarize(*samples);
  EXPECT_NE(text.find("cache a"), std::string::npos) << text;
  EXPECT_NE(text.find("hit ratio 90.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("tier 1 (memory): up, hits 9, 4 entries"), std::string::npos) << text;
  EXPECT_EQ(summarize({}), "no mtcache metrics in the answer (no cache running?)\n");
}

#include "storage/record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace httpkv::storage {
namespace {

TEST(RecordTest, RoundTripPut) {
  std::string buf;
  EncodeRecord(RecordType::kPut, 42, "key", "value", &buf);
  ASSERT_EQ(buf.size(), kRecordHeaderSize + 3 + 5);
  RecordView rec;
  ASSERT_EQ(DecodeRecord(buf, &rec), DecodeStatus::kOk);
  EXPECT_EQ(rec.header.type, RecordType::kPut);
  EXPECT_EQ(rec.header.seq, 42u);
  EXPECT_EQ(rec.header.record_size(), buf.size());
  EXPECT_EQ(rec.key, "key");
  EXPECT_EQ(rec.value, "value");
}

TEST(RecordTest, RoundTripDeleteAndEmptyValue) {
  std::string buf;
  EncodeRecord(RecordType::kDelete, 7, "gone", "", &buf);
  RecordView rec;
  ASSERT_EQ(DecodeRecord(buf, &rec), DecodeStatus::kOk);
  EXPECT_EQ(rec.header.type, RecordType::kDelete);
  EXPECT_EQ(rec.key, "gone");
  EXPECT_TRUE(rec.value.empty());
}

TEST(RecordTest, LayoutIsLittleEndian) {
  std::string buf;
  EncodeRecord(RecordType::kPut, 0x0102030405060708ull, "k", "vv", &buf);
  EXPECT_EQ(buf[4], 1);                                              // type
  EXPECT_EQ(buf[5], 0);                                              // reserved
  EXPECT_EQ(buf.substr(6, 2), std::string("\x01\x00", 2));           // key_len
  EXPECT_EQ(buf.substr(8, 4), std::string("\x02\x00\x00\x00", 4));   // value_len
  EXPECT_EQ(buf.substr(12, 8), "\x08\x07\x06\x05\x04\x03\x02\x01");  // seq
  EXPECT_EQ(buf.substr(20), "kvv");
}

TEST(RecordTest, EveryTruncationIsIncomplete) {
  std::string buf;
  EncodeRecord(RecordType::kPut, 1, "some-key", "some value bytes", &buf);
  for (size_t n = 0; n < buf.size(); ++n) {
    RecordView rec;
    EXPECT_EQ(DecodeRecord(std::string_view(buf).substr(0, n), &rec), DecodeStatus::kIncomplete)
        << "length " << n;
  }
}

TEST(RecordTest, FlippedBitsAreDetected) {
  std::string good;
  EncodeRecord(RecordType::kPut, 99, "some-key", "some value bytes", &good);
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      RecordView rec;
      DecodeStatus s = DecodeRecord(bad, &rec);
      ASSERT_NE(s, DecodeStatus::kOk) << "byte " << byte << " bit " << bit;
      // Outside the type/reserved/length fields a flip can only show up as a CRC mismatch.
      const bool structural = byte >= 4 && byte < 12;
      if (!structural) {
        EXPECT_EQ(s, DecodeStatus::kChecksumMismatch) << "byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(RecordTest, ExpiringPutCarriesItsExpiryAfterTheValue) {
  std::string buf;
  EncodeRecord(RecordType::kPutExpiring, 7, "key", "value", &buf, 1234567890123);
  ASSERT_EQ(buf.size(), kRecordHeaderSize + 3 + 5 + kExpiryTrailerSize);
  RecordView rec;
  ASSERT_EQ(DecodeRecord(buf, &rec), DecodeStatus::kOk);
  EXPECT_EQ(rec.header.type, RecordType::kPutExpiring);
  EXPECT_EQ(rec.key, "key");
  EXPECT_EQ(rec.value, "value");
  EXPECT_EQ(RecordExpiry(buf.data(), rec.header), 1234567890123u);
  EXPECT_EQ(RecordCrc(buf.data(), rec.header), rec.header.crc);
  buf.back() ^= 1;  // the trailer is covered by the CRC
  EXPECT_EQ(DecodeRecord(buf, &rec), DecodeStatus::kChecksumMismatch);
  // An expire tombstone is shaped like a delete: no value allowed.
  EncodeRecord(RecordType::kExpire, 8, "key", {}, &buf);
  ASSERT_EQ(DecodeRecord(buf, &rec), DecodeStatus::kOk);
  EXPECT_EQ(rec.header.type, RecordType::kExpire);
  buf[8] = 1;  // value_len 1
  EXPECT_EQ(ParseHeader(buf.data(), buf.size(), &rec.header), DecodeStatus::kBadHeader);
}

TEST(RecordTest, BadHeaders) {
  std::string buf;
  EncodeRecord(RecordType::kPut, 1, "k", "v", &buf);
  RecordHeader h;
  std::string t = buf;
  t[4] = 5;  // unknown type
  EXPECT_EQ(ParseHeader(t.data(), t.size(), &h), DecodeStatus::kBadHeader);
  t = buf;
  t[5] = 1;  // reserved must be zero
  EXPECT_EQ(ParseHeader(t.data(), t.size(), &h), DecodeStatus::kBadHeader);
  t = buf;
  t[6] = t[7] = 0;  // empty key
  EXPECT_EQ(ParseHeader(t.data(), t.size(), &h), DecodeStatus::kBadHeader);
  t = buf;
  t[4] = 2;  // delete with a value
  EXPECT_EQ(ParseHeader(t.data(), t.size(), &h), DecodeStatus::kBadHeader);
  t = buf;
  t[11] = static_cast<char>(0x80);  // value_len > 2^31
  t[8] = 1;
  EXPECT_EQ(ParseHeader(t.data(), t.size(), &h), DecodeStatus::kBadHeader);
}

TEST(RecordTest, ValidateKeyValue) {
  EXPECT_EQ(ValidateKeyValue("", "v").code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(ValidateKeyValue("k", "").ok());
  EXPECT_TRUE(ValidateKeyValue(std::string(kMaxKeySize, 'k'), "v").ok());
  EXPECT_EQ(ValidateKeyValue(std::string(kMaxKeySize + 1, 'k'), "v").code(),
            Status::Code::kInvalidArgument);
  // Only the size is inspected, so a fake view of 2^31+1 bytes is safe here.
  std::string_view huge("x", 1);
  huge = std::string_view(huge.data(), kMaxValueSize + 1);
  EXPECT_EQ(ValidateKeyValue("k", huge).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace httpkv::storage

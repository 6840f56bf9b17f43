package api

import "github.com/danielgtaylor/huma/v2/validation"

// Validation messages, Chinese first. huma formats them once per schema, so
// they are set before any schema exists: at package initialisation.
func init() {
	validation.MsgUnexpectedProperty = "不允许的字段 (unexpected property)"
	validation.MsgExpectedRFC3339DateTime = "应为 RFC 3339 日期时间 (expected string to be RFC 3339 date-time)"
	validation.MsgExpectedRFC3339Date = "应为 RFC 3339 日期 (expected string to be RFC 3339 date)"
	validation.MsgExpectedRFC5322Email = "应为电子邮件地址 (expected string to be RFC 5322 email): %v"
	validation.MsgExpectedRFC3986URI = "应为 URI (expected string to be RFC 3986 uri): %v"
	validation.MsgExpectedRFC4122UUID = "应为 UUID (expected string to be RFC 4122 uuid): %v"
	validation.MsgExpectedBoolean = "应为布尔值 (expected boolean)"
	validation.MsgExpectedNumber = "应为数字 (expected number)"
	validation.MsgExpectedInteger = "应为整数 (expected integer)"
	validation.MsgExpectedString = "应为字符串 (expected string)"
	validation.MsgExpectedArray = "应为数组 (expected array)"
	validation.MsgExpectedObject = "应为对象 (expected object)"
	validation.MsgExpectedArrayItemsUnique = "数组元素不能重复 (expected array items to be unique)"
	validation.MsgExpectedOneOf = "应为以下之一 (expected value to be one of) \"%s\""
	validation.MsgExpectedMinimumNumber = "应不小于 %[1]v (expected number >= %[1]v)"
	validation.MsgExpectedExclusiveMinimumNumber = "应大于 %[1]v (expected number > %[1]v)"
	validation.MsgExpectedMaximumNumber = "应不大于 %[1]v (expected number <= %[1]v)"
	validation.MsgExpectedExclusiveMaximumNumber = "应小于 %[1]v (expected number < %[1]v)"
	validation.MsgExpectedMinLength = "长度应不少于 %[1]d (expected length >= %[1]d)"
	validation.MsgExpectedMaxLength = "长度应不超过 %[1]d (expected length <= %[1]d)"
	validation.MsgExpectedMatchPattern = "格式不符 (expected string to match pattern %s)"
	validation.MsgExpectedMinItems = "元素应不少于 %[1]d 个 (expected array length >= %[1]d)"
	validation.MsgExpectedMaxItems = "元素应不超过 %[1]d 个 (expected array length <= %[1]d)"
	validation.MsgExpectedRequiredProperty = "缺少必填字段 %[1]s (expected required property %[1]s to be present)"
}

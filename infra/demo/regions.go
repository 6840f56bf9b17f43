package demo

import "yamen/tenants"

// The demo jurisdiction's region codes. They use the 98 prefix, which GB/T
// 2260 gives to no province (and the tests use 99), so the fictional 示范省
// can sit beside real data without colliding.
const (
	ProvinceCode = "980000"
	CityCode     = "980100"
)

// regionTable is the fictional region tree of 示范市, parents before their
// children. A code's level and parent follow from its shape (GB/T 2260 for
// the first six digits, the statistics office's 9- and 12-digit town and
// community codes below): 980000 province, 980100 city, 9801xx district or
// county, +3 digits town or street (001–099 街道, 100–199 镇, 200–399 乡),
// +3 digits community or village (001–199 社区, 200–399 村).
var regionTable = []struct{ code, name string }{
	{"980000", "示范省"},
	{"980100", "示范市"},

	{"980102", "东城区"},
	{"980102001", "东华街道"},
	{"980102001001", "东华社区"},
	{"980102001002", "东园社区"},
	{"980102002", "东山街道"},
	{"980102002001", "东山社区"},
	{"980102002002", "东坡社区"},
	{"980102003", "东湖街道"},
	{"980102003001", "东湖社区"},
	{"980102003002", "湖滨社区"},

	{"980103", "西城区"},
	{"980103001", "西山街道"},
	{"980103001001", "西山社区"},
	{"980103001002", "西岭社区"},
	{"980103002", "西关街道"},
	{"980103002001", "西关社区"},
	{"980103002002", "西苑社区"},

	{"980111", "高新区"},
	{"980111001", "科技园街道"},
	{"980111001001", "创新社区"},
	{"980111001002", "科园社区"},
	{"980111002", "新港街道"},
	{"980111002001", "新港社区"},
	{"980111002002", "港湾社区"},

	{"980121", "示范县"},
	{"980121100", "城关镇"},
	{"980121100001", "城关社区"},
	{"980121100201", "河口村"},
	{"980121101", "青山镇"},
	{"980121101001", "青山社区"},
	{"980121101201", "桃园村"},
	{"980121200", "白水乡"},
	{"980121200201", "白水村"},
	{"980121200202", "柳树村"},
}

// Regions returns the demo region tree, parents before children.
func Regions() []tenants.Region {
	rs := make([]tenants.Region, 0, len(regionTable))
	for _, r := range regionTable {
		level, parent := regionLevel(r.code)
		reg := tenants.Region{Code: r.code, Name: r.name, Level: level}
		if parent != "" {
			reg.ParentCode = &parent
		}
		rs = append(rs, reg)
	}
	return rs
}

// regionLevel returns a code's level (1 province … 5 community) and its
// parent's code ("" for a province).
func regionLevel(code string) (int, string) {
	switch {
	case len(code) == 12:
		return 5, code[:9]
	case len(code) == 9:
		return 4, code[:6]
	case code[2:] == "0000":
		return 1, ""
	case code[4:] == "00":
		return 2, code[:2] + "0000"
	default:
		return 3, code[:4] + "00"
	}
}

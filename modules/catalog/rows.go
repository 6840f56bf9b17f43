package catalog

// rowsCatalogue is why staff reads of the catalogue are tenant-wide
// (modules.TenantWide).
const rowsCatalogue = "服务目录（网点、部门、事项、窗口）对本租户所有工作人员相同 (the hall's catalogue is the same for every member)"

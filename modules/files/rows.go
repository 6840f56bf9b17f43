package files

// Why reads of files are tenant-wide (modules.TenantWide).
const (
	rowsPurposes = "文件用途是平台的配置 (file purposes are configuration)"
	rowsFiles    = "文件随其所附的业务记录，凭编号读取，不归属组织 (a file goes with the record it is attached to and is read by its id; it belongs to no org)"
)

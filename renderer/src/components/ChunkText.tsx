import { segmentTables } from '../../../electron/common/table-text.ts';

/**
 * A passage's text as the document had it: plain text as paragraphs, and the rows of a
 * table (a spreadsheet's, a CSV's, or one in a report) as a table under its header row.
 */
export function ChunkText({ text }: { readonly text: string }) {
  return (
    <>
      {segmentTables(text).map((segment, index) =>
        segment.kind === 'text' ? (
          <p key={index}>{segment.text}</p>
        ) : (
          <div key={index} className="viewer__table-frame">
            <table className="viewer__table">
              <thead>
                <tr>
                  {segment.header.map((cell, column) => (
                    <th key={column} scope="col">
                      {cell}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {segment.rows.map((row, rowIndex) => (
                  <tr key={rowIndex}>
                    {row.map((cell, column) => (
                      <td key={column}>{cell}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ),
      )}
    </>
  );
}

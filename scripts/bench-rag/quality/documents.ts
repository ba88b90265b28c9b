// The labelled retrieval set's own documents: office prose written for the set, in English and
// Spanish, one topic per section so that every question has one right place to land. Each
// document is written in a format the app reads; `section` names where a passage is: a page
// for PDF, a heading for DOCX, HTML and Markdown, nothing for plain text and CSV (there a
// question names a phrase its passage holds instead).

export type SetFormat = 'pdf' | 'docx' | 'html' | 'md' | 'txt' | 'csv';

export interface SetSection {
  readonly heading: string;
  readonly paragraphs: readonly string[];
}

export interface SetDocument {
  readonly name: string;
  readonly format: SetFormat;
  readonly language: 'en' | 'es';
  readonly title: string;
  /** One section per page for PDF; headed sections elsewhere; for txt the headings are dropped. */
  readonly sections: readonly SetSection[];
  /** CSV only: a header row and rows. */
  readonly rows?: readonly (readonly string[])[];
}

export const SET_DOCUMENTS: readonly SetDocument[] = [
  {
    name: 'staff-handbook.pdf',
    format: 'pdf',
    language: 'en',
    title: 'Staff handbook',
    sections: [
      {
        heading: 'Annual leave',
        paragraphs: [
          'Employees accrue twenty-five days of annual leave each calendar year. Requests for leave must reach the line manager at least two weeks ahead. Up to five unused days may be carried over into the first quarter of the following year; the rest lapse on the last day of March.',
        ],
      },
      {
        heading: 'Working from home',
        paragraphs: [
          'Staff may work from home on up to three days per week once their probation ends. The office lends a monitor and a keyboard for the home desk. Anyone working remotely must stay reachable by telephone during core hours, from ten in the morning until four in the afternoon.',
        ],
      },
      {
        heading: 'Travel expenses',
        paragraphs: [
          'Travel expenses are refunded within thirty days of a claim with receipts attached. Rail travel is booked in standard class; flights need the written approval of a director. The mileage allowance for a private car is forty-five cents per kilometre.',
        ],
      },
    ],
  },
  {
    name: 'harbour-operations.docx',
    format: 'docx',
    language: 'en',
    title: 'Harbour operations',
    sections: [
      {
        heading: 'Berthing',
        paragraphs: [
          'Vessels longer than one hundred and twenty metres berth only at the deep quay on the eastern pier. The pilot boards two nautical miles outside the breakwater. Tugs are compulsory for every tanker entering the basin after sunset.',
        ],
      },
      {
        heading: 'Cargo inspection',
        paragraphs: [
          'Customs officers inspect one container in every fifty at random, and every container whose manifest lists chemicals. Refrigerated containers are checked for temperature within an hour of unloading. Damaged seals are reported to the terminal supervisor at once.',
        ],
      },
      {
        heading: 'Storm procedure',
        paragraphs: [
          'When the wind forecast exceeds forty knots the harbour master suspends all crane work. Ships at anchor double their mooring lines, and small craft are lifted out of the water onto the hard standing. The port reopens only after a diver has surveyed the channel.',
        ],
      },
    ],
  },
  {
    name: 'it-security.html',
    format: 'html',
    language: 'en',
    title: 'IT security rules',
    sections: [
      {
        heading: 'Passwords',
        paragraphs: [
          'Passwords must be at least fourteen characters long and are never written on paper. The password manager generates and stores them; the master passphrase is the only one a person has to remember. Accounts lock after eight failed attempts.',
        ],
      },
      {
        heading: 'Lost laptops',
        paragraphs: [
          'A lost or stolen laptop is reported to the service desk within one hour. The disk is encrypted, and the device is wiped remotely once it next connects to the internet. A police report number is needed before a replacement is issued.',
        ],
      },
      {
        heading: 'Phishing',
        paragraphs: [
          'Suspicious e-mails are forwarded to the security team with the button in the mail client, never opened. Links that ask for credentials are treated as fraud until the sender confirms them by telephone. Every quarter the team runs a simulated phishing campaign.',
        ],
      },
    ],
  },
  {
    name: 'kitchen-guide.md',
    format: 'md',
    language: 'en',
    title: 'Kitchen guide',
    sections: [
      {
        heading: 'Food storage',
        paragraphs: [
          'Raw meat is stored on the bottom shelf of the fridge, below cooked food and dairy. The fridge stays between one and four degrees Celsius and its thermometer is read every morning. Leftovers are labelled with the date and thrown away after three days.',
        ],
      },
      {
        heading: 'Cleaning',
        paragraphs: [
          'Chopping boards are scrubbed with hot soapy water after each use and sanitised at the end of the shift. The floor is mopped every evening. The extractor hood filters are degreased every Friday by the closing cook.',
        ],
      },
      {
        heading: 'Allergens',
        paragraphs: [
          'Every dish on the menu lists the fourteen major allergens it contains. Peanut and sesame dishes are prepared on a separate counter with purple utensils. A guest who declares an allergy is served by the head chef in person.',
        ],
      },
    ],
  },
  {
    name: 'fleet-maintenance.txt',
    format: 'txt',
    language: 'en',
    title: 'Fleet maintenance',
    sections: [
      {
        heading: 'Tyres',
        paragraphs: [
          'Tyre tread depth on the delivery vans is measured every month, and tyres are replaced below three millimetres. Winter tyres go on in November and come off in April.',
        ],
      },
      {
        heading: 'Oil',
        paragraphs: [
          'The engine oil and the oil filter are changed every fifteen thousand kilometres or once a year, whichever comes first. The garage on Mill Road does the work under the framework contract.',
        ],
      },
      {
        heading: 'Brakes',
        paragraphs: [
          'Brake pads are inspected at every service. A driver who hears grinding from the wheels parks the van and calls the fleet coordinator before driving any further.',
        ],
      },
    ],
  },
  {
    name: 'procurement-rules.pdf',
    format: 'pdf',
    language: 'en',
    title: 'Procurement rules',
    sections: [
      {
        heading: 'Quotes',
        paragraphs: [
          'Any purchase above five thousand euros needs three written quotes from different suppliers. Purchases above fifty thousand euros go to open tender published on the public procurement portal. Splitting an order to stay below a threshold is forbidden.',
        ],
      },
      {
        heading: 'Supplier vetting',
        paragraphs: [
          'New suppliers send their tax certificate and proof of insurance before their first invoice is paid. The finance team checks the sanctions list for every new supplier. A supplier is reviewed again every two years.',
        ],
      },
      {
        heading: 'Signing contracts',
        paragraphs: [
          'Contracts worth more than twenty thousand euros are signed by two authorised signatories. Electronic signatures are accepted. The signed original is filed in the contracts register within five working days.',
        ],
      },
    ],
  },
  {
    name: 'library-services.docx',
    format: 'docx',
    language: 'en',
    title: 'Library services',
    sections: [
      {
        heading: 'Borrowing',
        paragraphs: [
          'Members borrow up to twelve books at a time for a loan period of three weeks. A loan can be renewed twice online unless another reader has reserved the title. Children under fourteen need a parent to sign their membership form.',
        ],
      },
      {
        heading: 'Late returns',
        paragraphs: [
          'Overdue books cost twenty cents a day, up to a maximum of five euros per item. Borrowing is blocked while a member owes more than ten euros. Fines are waived for readers over seventy.',
        ],
      },
      {
        heading: 'Rare manuscripts',
        paragraphs: [
          'Manuscripts from before 1800 are read only in the reading room, wearing cotton gloves, with pencils and no ink. Photography without flash is allowed. Requests go in writing at least forty-eight hours before the visit.',
        ],
      },
    ],
  },
  {
    name: 'community-garden.md',
    format: 'md',
    language: 'en',
    title: 'Community garden',
    sections: [
      {
        heading: 'Watering',
        paragraphs: [
          'Plots are watered before nine in the morning or after six in the evening, to lose less to evaporation. Hoses are forbidden during a drought order; use the watering cans filled from the rain barrels.',
        ],
      },
      {
        heading: 'Compost',
        paragraphs: [
          'Vegetable peelings, coffee grounds and dry leaves go in the compost bins by the shed. Meat, bread and diseased plants never go in. The heap is turned with a fork every fortnight.',
        ],
      },
      {
        heading: 'Trees',
        paragraphs: [
          'Fruit trees are pruned in late winter while they are dormant. Nobody climbs the old walnut tree. Apples that fall on the shared path may be picked up by any member.',
        ],
      },
    ],
  },
  {
    name: 'budget-2025.csv',
    format: 'csv',
    language: 'en',
    title: 'Budget 2025',
    sections: [],
    rows: [
      ['Department', 'Item', 'Amount (EUR)', 'Note'],
      ['Facilities', 'Roof repair on the archive building', '84000', 'Contractor chosen by tender in spring'],
      ['Facilities', 'Boiler replacement', '23500', 'Gas boiler replaced by a heat pump'],
      ['IT', 'Laptop renewal', '61000', 'Seventy machines older than five years'],
      ['IT', 'Backup tapes', '4200', 'Off-site storage in the bank vault'],
      ['Training', 'First aid courses', '3100', 'Two trained first aiders on every floor'],
      ['Training', 'Language lessons', '7800', 'Spanish and French for front desk staff'],
      ['Communications', 'Printed annual report', '5600', 'Recycled paper, four hundred copies'],
      ['Fleet', 'Electric van', '38900', 'Replaces the oldest diesel van'],
    ],
  },
  {
    name: 'manual-empleados.pdf',
    format: 'pdf',
    language: 'es',
    title: 'Manual del empleado',
    sections: [
      {
        heading: 'Vacaciones',
        paragraphs: [
          'Cada empleado disfruta de veintitrés días laborables de vacaciones al año. Las vacaciones se solicitan al responsable del departamento con un mes de antelación. Los días no disfrutados antes del treinta y uno de enero se pierden.',
        ],
      },
      {
        heading: 'Teletrabajo',
        paragraphs: [
          'El teletrabajo se permite dos días por semana tras seis meses en la empresa. La empresa entrega un portátil y una silla ergonómica. La conexión a la red interna se hace siempre a través de la VPN corporativa.',
        ],
      },
      {
        heading: 'Gastos de viaje',
        paragraphs: [
          'Las dietas de viaje son de cincuenta y tres euros diarios dentro de España. Los billetes de tren se compran en clase turista y los de avión necesitan la firma del gerente. Los tiques originales se entregan en administración antes del día cinco de cada mes.',
        ],
      },
    ],
  },
  {
    name: 'protocolo-incendios.html',
    format: 'html',
    language: 'es',
    title: 'Protocolo de incendios',
    sections: [
      {
        heading: 'Evacuación',
        paragraphs: [
          'Al sonar la alarma, todo el personal abandona el edificio por la escalera más cercana, sin usar los ascensores. El punto de reunión está en el aparcamiento norte, junto a la farola amarilla. Los coordinadores de planta cuentan a su gente y avisan a los bomberos si falta alguien.',
        ],
      },
      {
        heading: 'Extintores',
        paragraphs: [
          'Hay un extintor de polvo cada quince metros de pasillo y uno de dióxido de carbono junto a cada cuadro eléctrico. Una empresa autorizada los revisa cada trimestre y pega una etiqueta con la fecha.',
        ],
      },
      {
        heading: 'Simulacros',
        paragraphs: [
          'Se realizan dos simulacros de evacuación al año, uno de ellos sin previo aviso. El tiempo de salida se cronometra y el informe se envía a la dirección. El último simulacro se completó en cuatro minutos y doce segundos.',
        ],
      },
    ],
  },
  {
    name: 'guia-archivo.docx',
    format: 'docx',
    language: 'es',
    title: 'Guía del archivo municipal',
    sections: [
      {
        heading: 'Conservación',
        paragraphs: [
          'Los legajos se guardan en cajas de cartón sin ácido, a dieciocho grados y con una humedad relativa del cincuenta por ciento. Los planos grandes se conservan en planeras horizontales, nunca doblados.',
        ],
      },
      {
        heading: 'Consulta',
        paragraphs: [
          'Los investigadores consultan los documentos en la sala de lectura con cita previa. Los expedientes con datos personales de menos de cincuenta años solo se muestran con autorización del archivero jefe.',
        ],
      },
      {
        heading: 'Digitalización',
        paragraphs: [
          'El archivo escanea los libros de actas a trescientos puntos por pulgada en color. Las copias digitales se publican en el portal de transparencia y los originales dejan de prestarse una vez digitalizados.',
        ],
      },
    ],
  },
  {
    name: 'becas-formacion.txt',
    format: 'txt',
    language: 'es',
    title: 'Becas de formación',
    sections: [
      {
        heading: 'Requisitos',
        paragraphs: [
          'Pueden pedir una beca de formación los empleados con contrato indefinido y al menos un año de antigüedad. La beca cubre hasta el ochenta por ciento de la matrícula de cursos relacionados con el puesto.',
        ],
      },
      {
        heading: 'Plazos',
        paragraphs: [
          'Las solicitudes se presentan en septiembre y la comisión resuelve en octubre. Quien abandone el curso sin causa justificada devuelve el importe recibido.',
        ],
      },
    ],
  },
];
